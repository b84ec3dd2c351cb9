// @requires: plain, with arguments on the required field, two requires that differ only in arguments,
// with fragments on a union, a chain (posts → stats → seo) and a circle (posts → stats → posts).
import type { SubgraphDef } from '../lib/types.ts';

const link = (imports: string) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: [${imports}])`;

const posts = [
  { id: 'p1', title: 'Hello World', words: 450, media: { url: '/p1.png' } },
  { id: 'p2', title: 'Fed Two', words: 1000, media: { url: '/p2.mp4', seconds: 90 } },
];
const comments: Record<string, { id: string; body: string }[]> = {
  p1: [
    { id: 'c1', body: 'first' },
    { id: 'c2', body: 'second' },
    { id: 'c3', body: 'third' },
  ],
  p2: [{ id: 'c4', body: 'only' }],
};
const SHARED = `
  type Comment @shareable { id: ID! body: String! }
  union Media = Image | Video
  type Image @shareable { url: String! }
  type Video @shareable { url: String! seconds: Int! }`;
const mediaType = (m: { seconds?: number }) => (m.seconds === undefined ? 'Image' : 'Video');

type Required = {
  id: string;
  title: string;
  words: number;
  readingTime: number;
  comments: { id?: string; body?: string }[];
  media: { url?: string; seconds?: number };
};

const postsSubgraph: SubgraphDef = {
  name: 'posts',
  sdl: `${link('"@key", "@shareable", "@external", "@requires"')}
    ${SHARED}
    type Post @key(fields: "id") {
      id: ID! title: String! words: Int! media: Media!
      comments(limit: Int!): [Comment!]!
      readingTime: Int! @external
      summary: String! @requires(fields: "readingTime")
    }
    type Query { posts: [Post!]! post(id: ID!): Post }`,
  resolvers: {
    Query: {
      posts: () => posts,
      post: (_: unknown, { id }: { id: string }) => posts.find((p) => p.id === id) ?? null,
    },
    Media: { __resolveType: mediaType },
    Post: {
      __resolveReference: (ref: Required) => {
        const p = posts.find((x) => x.id === ref.id);
        return p ? { ...ref, ...p } : null;
      },
      comments: (p: { id: string }, { limit }: { limit: number }) => (comments[p.id] ?? []).slice(0, limit),
      summary: (p: Required) => `${p.title} (${p.readingTime} min)`,
    },
  },
};

const stats: SubgraphDef = {
  name: 'stats',
  sdl: `${link('"@key", "@shareable", "@external", "@requires"')}
    ${SHARED}
    type Post @key(fields: "id") {
      id: ID!
      title: String! @external
      words: Int! @external
      media: Media! @external
      comments(limit: Int!): [Comment!]! @external
      slug: String! @requires(fields: "title")
      readingTime: Int! @requires(fields: "words")
      firstCommentBody: String @requires(fields: "comments(limit: 1) { body }")
      requiredCount: Int! @requires(fields: "comments(limit: 1) { id }")
      commentCountOf2: Int! @requires(fields: "comments(limit: 2) { id }")
      commentCountOf3: Int! @requires(fields: "comments(limit: 3) { id }")
      mediaLabel: String! @requires(fields: "media { ... on Image { url } ... on Video { seconds } }")
    }`,
  resolvers: {
    Media: { __resolveType: mediaType },
    Post: {
      __resolveReference: (ref: Required) => ref,
      slug: (p: Required) => p.title.toLowerCase().replaceAll(' ', '-'),
      readingTime: (p: Required) => Math.ceil(p.words / 200),
      firstCommentBody: (p: Required) => p.comments[0]?.body ?? null,
      requiredCount: (p: Required) => p.comments.length,
      commentCountOf2: (p: Required) => p.comments.length,
      commentCountOf3: (p: Required) => p.comments.length,
      mediaLabel: (p: Required) =>
        p.media.seconds === undefined ? `image ${p.media.url}` : `video ${p.media.seconds}s`,
    },
  },
};

const seo: SubgraphDef = {
  name: 'seo',
  sdl: `${link('"@key", "@external", "@requires"')}
    type Post @key(fields: "id") {
      id: ID!
      slug: String! @external
      canonical: String! @requires(fields: "slug")
    }`,
  resolvers: {
    Post: {
      __resolveReference: (ref: { id: string; slug: string }) => ref,
      canonical: (p: { slug: string }) => `https://blog/${p.slug}`,
    },
  },
};

export const subgraphs = [postsSubgraph, stats, seo];
