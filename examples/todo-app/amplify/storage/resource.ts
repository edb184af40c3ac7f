import { defineStorage } from '@aws-amplify/backend';

// One bucket for attachments. Keep `name` and the access rules in step with
// STORAGE_NAME / STORAGE_PATHS in tools/ampx_standin.py.
export const storage = defineStorage({
  name: 'todoFiles',
  access: (allow) => ({
    'media/*': [
      allow.guest.to(['read']),
      allow.authenticated.to(['read', 'write', 'delete']),
    ],
  }),
});
