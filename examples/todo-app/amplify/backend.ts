// The backend definition the real `npx ampx` synthesizes with the AWS CDK.
// Documentation only in this example: tools/ampx_standin.py deploys the same
// shape of backend (auth + data + storage) without running this file.
import { defineBackend } from '@aws-amplify/backend';
import { auth } from './auth/resource';
import { data } from './data/resource';
import { storage } from './storage/resource';

defineBackend({
  auth,
  data,
  storage,
});
