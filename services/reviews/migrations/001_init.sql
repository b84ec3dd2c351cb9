CREATE SCHEMA IF NOT EXISTS reviews;

CREATE TABLE IF NOT EXISTS reviews.reviews (
  id bigserial PRIMARY KEY,
  product_upc text NOT NULL,
  author_id text NOT NULL,
  body text NOT NULL,
  rating int NOT NULL CHECK (rating BETWEEN 1 AND 5),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS reviews_product_upc_idx ON reviews.reviews (product_upc);
CREATE INDEX IF NOT EXISTS reviews_author_id_idx ON reviews.reviews (author_id);
