import { type ClientSchema, a, defineData } from '@aws-amplify/backend';

// The data models. The real toolchain turns this into the GraphQL SDL in
// ./schema.graphql (the file behind `amplifyApiModelSchemaS3Uri`); the
// stand-in reads that SDL directly, so edit both together.
const schema = a.schema({
  // A custom type: stored inside a record as a map, not in a table of its own.
  Location: a.customType({
    lat: a.float(),
    lng: a.float(),
    label: a.string(),
  }),

  Project: a
    .model({
      name: a.string().required(),
      description: a.string(),
      // An inline enum is named <Model><Field>: ProjectStatus.
      status: a.enum(['planned', 'active', 'onHold', 'done']),
      budget: a.float(),
      dueDate: a.date(),
      // One project, many todos: each todo keeps its project's id in projectId.
      todos: a.hasMany('Todo', 'projectId'),
    })
    .authorization((allow) => [allow.authenticated()]),

  Todo: a
    .model({
      content: a.string(),
      done: a.boolean(),
      priority: a.enum(['low', 'medium', 'high']),
      tags: a.string().array(),
      estimateHours: a.integer(),
      projectId: a.id(),
      project: a.belongsTo('Project', 'projectId'),
    })
    .authorization((allow) => [allow.authenticated()]),

  Note: a
    .model({
      title: a.string().required(),
      body: a.string(),
      location: a.ref('Location'),
      links: a.url().array(),
      meta: a.json(),
      contact: a.email(),
      phone: a.phone(),
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
