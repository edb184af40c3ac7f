import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

// The Todo data model. The real toolchain turns this into the GraphQL SDL in
// ./schema.graphql (the file behind `amplifyApiModelSchemaS3Uri`); the
// stand-in reads that SDL directly, so edit both together.
const schema = a.schema({
  Todo: a
    .model({
      content: a.string(),
      done: a.boolean(),
      // An inline enum is named <Model><Field>: TodoPriority.
      priority: a.enum(['low', 'medium', 'high']),
    })
    .authorization((allow) => [allow.authenticated()]),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: {
    defaultAuthorizationMode: 'userPool',
  },
});
