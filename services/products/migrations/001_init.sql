CREATE SCHEMA IF NOT EXISTS products;

CREATE TABLE IF NOT EXISTS products.products (
  upc text PRIMARY KEY,
  name text NOT NULL,
  price int NOT NULL,
  weight int NOT NULL
);
