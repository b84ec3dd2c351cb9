// Schemas for the cost tests (docs/design.md#query-cost: oracles T-C1…T-C7 and the extra rule cases).

export const COST_DIRECTIVES = /* GraphQL */ `
  directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
  directive @listSize(
    assumedSize: Int
    slicingArguments: [String!]
    sizedFields: [String!]
    requireOneSlicingArgument: Boolean = true
  ) on FIELD_DEFINITION
`;

/** T-C1…T-C4 and T-C7: Book{title author publisher}, Author{name}, Publisher{name address}, Address{zipCode}. */
export function bookSdl(addressWeight?: number): string {
  const addressCost = addressWeight === undefined ? '' : `@cost(weight: ${addressWeight})`;
  return /* GraphQL */ `
    ${COST_DIRECTIVES}
    type Query {
      book(id: ID!): Book
      bestsellers: [Book] @listSize(assumedSize: 5)
      newestAdditions(after: ID, limit: Int!): [Book] @listSize(slicingArguments: ["limit"])
    }
    type Mutation {
      addReview(bookId: ID, stars: Int, input: ReviewInput): Review
    }
    type Book { title: String author: Author publisher: Publisher }
    type Author { name: String }
    type Publisher { name: String address: Address }
    type Address ${addressCost} { zipCode: Int! }
    type Review { id: ID! }
    input ReviewInput { bookId: ID stars: Int body: String }
  `;
}

/** T-C5 and T-C6: a connection sized through `sizedFields`. */
export const PRODUCTS_SDL = /* GraphQL */ `
  ${COST_DIRECTIVES}
  type Query {
    products(first: Int, last: Int): ProductConnection
      @listSize(slicingArguments: ["first", "last"], sizedFields: ["edges"])
  }
  type ProductConnection { edges: [ProductEdge!]! pageInfo: PageInfo! }
  type ProductEdge { node: Product! cursor: String! }
  type PageInfo { hasNextPage: Boolean! }
  type Product {
    title: String!
    variants(first: Int = 5): [Variant!]! @listSize(slicingArguments: ["first"])
  }
  type Variant { price: Int }
`;

/** Extra rule cases: leaf and enum weights, argument costs, abstract types, optional slicing, nesting. */
export const CATALOG_SDL = /* GraphQL */ `
  ${COST_DIRECTIVES}
  scalar Money @cost(weight: 3)
  enum Sort @cost(weight: 2) { NEW OLD }
  type Query {
    book(id: ID!): Book
    books(filter: BookFilter, sort: Sort, ids: [ID!] @cost(weight: 1)): [Book]
    search(term: String @cost(weight: 4)): [Media] @listSize(assumedSize: 2)
    results: [SearchResult] @listSize(assumedSize: 2)
    items(first: Int, last: Int): [Item]
      @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false, assumedSize: 4)
    paged(page: PageInput): [Item] @listSize(slicingArguments: ["page.size"])
    node: Node
  }
  type Mutation { touch(id: ID!): Item }
  input BookFilter { title: String author: AuthorFilter and: [BookFilter!] @cost(weight: 2) }
  input AuthorFilter { name: String }
  input PageInput { size: Int }
  interface Media { id: ID! }
  type Book implements Media {
    id: ID!
    title: String
    price: Money
    sort: Sort
    tags: [String]
    author: Author @cost(weight: 3)
    coAuthor: Author
  }
  type Movie implements Media {
    id: ID!
    director: Person
    cast: [Person] @listSize(assumedSize: 3)
  }
  union SearchResult = Book | Movie
  type Author @cost(weight: 7) { name: String }
  type Person { name: String }
  type Item { id: ID }
  type Node { name: String child: Node }
`;
