CREATE SCHEMA IF NOT EXISTS inventory;

CREATE TABLE IF NOT EXISTS inventory.stock (
  upc text PRIMARY KEY,
  quantity int NOT NULL
);
