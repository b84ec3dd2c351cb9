// Deterministic in-memory data for the benchmark subgraphs. It follows the formulas of
// services/*/seed.sql (same names, prices, weights, stock, review spread), so the static profile and the
// PostgreSQL profile return data of the same shape; only the counts differ.

export interface BenchCounts {
  products: number;
  users: number;
  reviews: number;
}

/**
 * Sized so that the 3-level query (`topProducts(first: 5)`, 3 reviews per product, ~7 reviews per
 * author) answers ≈13 KB and the heavy one (`first: 20`) ≈55 KB, as in issue 10.
 */
export const BENCH_COUNTS: BenchCounts = { products: 1_000, users: 410, reviews: 3_000 };

export interface ProductRow {
  upc: string;
  name: string;
  price: number;
  weight: number;
}

export interface ReviewRow {
  id: string;
  body: string;
  rating: number;
  productUpc: string;
  authorId: string;
}

export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
}

export interface BenchData {
  counts: BenchCounts;
  /** Ordered by upc, as `ORDER BY upc` in the products subgraph. */
  products: readonly ProductRow[];
  productByUpc: ReadonlyMap<string, ProductRow>;
  stockByUpc: ReadonlyMap<string, number>;
  userById: ReadonlyMap<string, UserRow>;
  /** Oldest (lowest id) first, as the reviews subgraph orders them. */
  reviewsByProduct: ReadonlyMap<string, readonly ReviewRow[]>;
  reviewsByAuthor: ReadonlyMap<string, readonly ReviewRow[]>;
}

const PRODUCT_NAMES = ['Table', 'Chair', 'Lamp', 'Couch', 'Desk', 'Shelf', 'Rug', 'Clock'];
const MATERIALS = ['Oak', 'Steel', 'Walnut', 'Glass', 'Pine'];
const REVIEW_PHRASES = [
  'Solid build.',
  'Arrived late.',
  'Would buy again.',
  'Not as pictured.',
  'Great value.',
];
const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];
const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'];

const upcOf = (i: number): string => String(i).padStart(6, '0');

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function buildData(counts: BenchCounts = BENCH_COUNTS): BenchData {
  const products: ProductRow[] = [];
  const stockByUpc = new Map<string, number>();
  for (let i = 1; i <= counts.products; i++) {
    const upc = upcOf(i);
    products.push({
      upc,
      name: `${PRODUCT_NAMES[i % 8]} ${MATERIALS[i % 5]} #${i}`,
      price: ((i * 389) % 1999) + 1,
      weight: ((i * 131) % 997) + 1,
    });
    stockByUpc.set(upc, i % 5 === 2 ? 0 : ((i * 37) % 100) + 1);
  }
  const userById = new Map<string, UserRow>();
  for (let i = 1; i <= counts.users; i++) {
    const id = String(i);
    userById.set(id, {
      id,
      username: `user${i}`,
      name: `${FIRST_NAMES[i % 8]} ${LAST_NAMES[i % 7]}`,
      email: `user${i}@example.com`,
    });
  }
  const reviewsByProduct = new Map<string, ReviewRow[]>();
  const reviewsByAuthor = new Map<string, ReviewRow[]>();
  for (let i = 1; i <= counts.reviews; i++) {
    const review: ReviewRow = {
      id: String(i),
      body: `Review ${i}: ${REVIEW_PHRASES[i % 5]}`,
      rating: (i % 5) + 1,
      productUpc: upcOf(((i * 7) % counts.products) + 1),
      authorId: String(((i * 13) % counts.users) + 1),
    };
    push(reviewsByProduct, review.productUpc, review);
    push(reviewsByAuthor, review.authorId, review);
  }
  return {
    counts,
    products,
    productByUpc: new Map(products.map((p) => [p.upc, p])),
    stockByUpc,
    userById,
    reviewsByProduct,
    reviewsByAuthor,
  };
}

/** Same rule as services/inventory: free above a price of 1000, otherwise half the weight. */
export function shippingEstimate(price: number, weight: number): number {
  return price > 1000 ? 0 : Math.round(weight / 2);
}

/**
 * What the 3-level query (and the heavy one, with a larger `first`) must return, computed straight
 * from the data, field by field in the order of the selection set. The bench compares the gateways'
 * `data` against it byte for byte, so a wrong merge is caught even when all targets agree.
 */
export function expectedTopProducts(data: BenchData, first: number): unknown {
  const product = (upc: string) => data.productByUpc.get(upc)!;
  return {
    topProducts: data.products.slice(0, first).map((p) => ({
      upc: p.upc,
      name: p.name,
      price: p.price,
      weight: p.weight,
      inStock: (data.stockByUpc.get(p.upc) ?? 0) > 0,
      shippingEstimate: shippingEstimate(p.price, p.weight),
      reviews: (data.reviewsByProduct.get(p.upc) ?? []).map((r) => {
        const author = data.userById.get(r.authorId)!;
        return {
          id: r.id,
          body: r.body,
          author: {
            id: author.id,
            username: author.username,
            name: author.name,
            reviews: (data.reviewsByAuthor.get(author.id) ?? []).map((x) => ({
              id: x.id,
              body: x.body,
              product: { upc: x.productUpc, name: product(x.productUpc).name },
            })),
          },
        };
      }),
    })),
  };
}

/** What the one-subgraph query (`topProducts(first) { upc name price }`) must return. */
export function expectedFlatProducts(data: BenchData, first: number): unknown {
  return {
    topProducts: data.products.slice(0, first).map((p) => ({ upc: p.upc, name: p.name, price: p.price })),
  };
}
