import { defineAuth } from '@aws-amplify/backend';

// Email sign-in, as in the Amplify Gen 2 quickstart. The stand-in creates a
// Cognito user pool (email as username), a web client and an identity pool.
export const auth = defineAuth({
  loginWith: {
    email: true,
  },
});
