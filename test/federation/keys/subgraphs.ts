// Entity keys: one key, a second key on the same type, a composite key and a nested key, across three
// subgraphs that each know a User by a different key.
import type { SubgraphDef } from '../lib/types.ts';

const LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable"])';

export const users = [
  { id: 'u1', email: 'ada@x.org', name: 'Ada' },
  { id: 'u2', email: 'bob@x.org', name: 'Bob' },
  { id: 'u3', email: 'cy@x.org', name: 'Cy' },
];
const bios: Record<string, string | null> = { 'ada@x.org': 'math', 'bob@x.org': 'builds', 'cy@x.org': null };
const posts: Record<string, number> = { u1: 5, u2: 2, u3: 0 };
const seats = [
  { org: 'acme', number: 1, label: 'A1' },
  { org: 'acme', number: 2, label: 'A2' },
  { org: 'globex', number: 1, label: 'G1' },
];
const wallets = [
  { owner: { id: 'u1' }, currency: 'EUR', balance: 10 },
  { owner: { id: 'u1' }, currency: 'USD', balance: 20 },
  { owner: { id: 'u2' }, currency: 'EUR', balance: 30 },
];

type UserRef = { id?: string; email?: string };
type SeatRef = { org: string; number: number };
type WalletRef = { owner: { id: string }; currency: string };

const accounts: SubgraphDef = {
  name: 'accounts',
  sdl: `${LINK}
    type User @key(fields: "id") @key(fields: "email") { id: ID! email: String! name: String! }
    type Seat @key(fields: "org number") { org: String! number: Int! label: String! }
    type Owner @shareable { id: ID! }
    type Wallet @key(fields: "owner { id } currency") { owner: Owner! currency: String! balance: Int! }
    type Query { users: [User!]! user(id: ID!): User seats: [Seat!]! wallets: [Wallet!]! }`,
  resolvers: {
    Query: {
      users: () => users,
      user: (_: unknown, { id }: { id: string }) => users.find((u) => u.id === id) ?? null,
      seats: () => seats,
      wallets: () => wallets,
    },
    User: {
      __resolveReference: (ref: UserRef) =>
        users.find((u) => (ref.id !== undefined ? u.id === ref.id : u.email === ref.email)) ?? null,
    },
    Seat: {
      __resolveReference: (ref: SeatRef) =>
        seats.find((s) => s.org === ref.org && s.number === ref.number) ?? null,
    },
    Wallet: {
      __resolveReference: (ref: WalletRef) =>
        wallets.find((w) => w.owner.id === ref.owner.id && w.currency === ref.currency) ?? null,
    },
  },
};

const profiles: SubgraphDef = {
  name: 'profiles',
  sdl: `${LINK}
    type User @key(fields: "email") { email: String! bio: String }
    type Seat @key(fields: "org number") { org: String! number: Int! floor: Int! }
    type Owner @shareable { id: ID! }
    type Wallet @key(fields: "owner { id } currency") { owner: Owner! currency: String! frozen: Boolean! }
    type Query { profile(email: String!): User }`,
  resolvers: {
    Query: {
      profile: (_: unknown, { email }: { email: string }) => (email in bios ? { email } : null),
    },
    User: {
      __resolveReference: (ref: { email: string }) => ref,
      bio: (u: { email: string }) => bios[u.email] ?? null,
    },
    Seat: {
      __resolveReference: (ref: SeatRef) => ref,
      floor: (s: SeatRef) => (s.org === 'acme' ? s.number : s.number + 100),
    },
    Wallet: {
      __resolveReference: (ref: WalletRef) => ref,
      frozen: (w: WalletRef) => w.currency === 'USD',
    },
  },
};

const activity: SubgraphDef = {
  name: 'activity',
  sdl: `${LINK}
    type User @key(fields: "id") { id: ID! posts: Int! }
    type Query { topPoster: User }`,
  resolvers: {
    Query: { topPoster: () => ({ id: 'u1' }) },
    User: {
      __resolveReference: (ref: { id: string }) => ref,
      posts: (u: { id: string }) => posts[u.id] ?? 0,
    },
  },
};

export const subgraphs = [accounts, profiles, activity];
