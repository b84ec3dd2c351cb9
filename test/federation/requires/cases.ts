import type { Case } from '../lib/types.ts';

// p1 "Hello World", 450 words, 3 comments (first, second, third), an image /p1.png
// p2 "Fed Two", 1000 words, 1 comment (only), a video /p2.mp4 of 90 s
export const cases: Case[] = [
  {
    name: 'plain @requires',
    query: '{ posts { id slug } }',
    expected: {
      data: {
        posts: [
          { id: 'p1', slug: 'hello-world' },
          { id: 'p2', slug: 'fed-two' },
        ],
      },
    },
  },
  {
    name: 'plain @requires, the required field asked too',
    query: '{ posts { title words slug readingTime } }',
    expected: {
      data: {
        posts: [
          { title: 'Hello World', words: 450, slug: 'hello-world', readingTime: 3 },
          { title: 'Fed Two', words: 1000, slug: 'fed-two', readingTime: 5 },
        ],
      },
    },
  },
  {
    name: 'plain @requires on a single entity',
    query: '{ post(id: "p2") { readingTime } }',
    expected: { data: { post: { readingTime: 5 } } },
  },
  {
    name: 'required field with arguments',
    query: '{ posts { firstCommentBody requiredCount } }',
    expected: {
      data: {
        posts: [
          { firstCommentBody: 'first', requiredCount: 1 },
          { firstCommentBody: 'only', requiredCount: 1 },
        ],
      },
    },
  },
  {
    name: 'required field with arguments, asked by the client with other arguments',
    apolloFails: "the required comments(limit: 1) is fetched with the client's limit: 3",
    query: '{ posts { comments(limit: 3) { body } requiredCount } }',
    expected: {
      data: {
        posts: [
          { comments: [{ body: 'first' }, { body: 'second' }, { body: 'third' }], requiredCount: 1 },
          { comments: [{ body: 'only' }], requiredCount: 1 },
        ],
      },
    },
  },
  {
    name: 'required field with arguments, the client asks fewer than the requires',
    apolloFails: "the required comments(limit: 3) is fetched with the client's limit: 1",
    query: '{ posts { comments(limit: 1) { body } commentCountOf3 } }',
    expected: {
      data: {
        posts: [
          { comments: [{ body: 'first' }], commentCountOf3: 3 },
          { comments: [{ body: 'only' }], commentCountOf3: 1 },
        ],
      },
    },
  },
  {
    name: 'one of two requires that differ only in arguments',
    query: '{ posts { commentCountOf2 } }',
    expected: { data: { posts: [{ commentCountOf2: 2 }, { commentCountOf2: 1 }] } },
  },
  {
    name: 'two requires that differ only in arguments, together',
    apolloFails: 'comments(limit: 2) and comments(limit: 3) are merged into one required field',
    query: '{ posts { commentCountOf2 commentCountOf3 } }',
    expected: {
      data: {
        posts: [
          { commentCountOf2: 2, commentCountOf3: 3 },
          { commentCountOf2: 1, commentCountOf3: 1 },
        ],
      },
    },
  },
  {
    name: '@requires with fragments on a union',
    query: '{ posts { mediaLabel } }',
    expected: { data: { posts: [{ mediaLabel: 'image /p1.png' }, { mediaLabel: 'video 90s' }] } },
  },
  {
    name: '@requires with fragments, the union asked too',
    query: '{ posts { media { __typename ... on Image { url } } mediaLabel } }',
    expected: {
      data: {
        posts: [
          { media: { __typename: 'Image', url: '/p1.png' }, mediaLabel: 'image /p1.png' },
          { media: { __typename: 'Video' }, mediaLabel: 'video 90s' },
        ],
      },
    },
  },
  {
    name: 'a chain of requires',
    query: '{ posts { canonical } }',
    expected: {
      data: { posts: [{ canonical: 'https://blog/hello-world' }, { canonical: 'https://blog/fed-two' }] },
    },
  },
  {
    name: 'a chain of requires, the middle asked too',
    query: '{ post(id: "p1") { slug canonical } }',
    expected: { data: { post: { slug: 'hello-world', canonical: 'https://blog/hello-world' } } },
  },
  {
    name: 'circular requires: posts → stats → posts',
    query: '{ posts { summary } }',
    expected: { data: { posts: [{ summary: 'Hello World (3 min)' }, { summary: 'Fed Two (5 min)' }] } },
  },
  {
    name: 'circular requires with the fields along the way',
    query: '{ post(id: "p1") { words readingTime summary } }',
    expected: { data: { post: { words: 450, readingTime: 3, summary: 'Hello World (3 min)' } } },
  },
  {
    name: 'every requires at once',
    query: '{ post(id: "p2") { slug canonical summary firstCommentBody mediaLabel commentCountOf2 } }',
    expected: {
      data: {
        post: {
          slug: 'fed-two',
          canonical: 'https://blog/fed-two',
          summary: 'Fed Two (5 min)',
          firstCommentBody: 'only',
          mediaLabel: 'video 90s',
          commentCountOf2: 1,
        },
      },
    },
  },
];
