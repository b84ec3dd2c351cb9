-- Deterministic products 000001..; about half cost more than 1000 (free shipping in inventory),
-- mixed from the first few on so topProducts shows both cases.
INSERT INTO products.products (upc, name, price, weight)
SELECT
  lpad(i::text, 6, '0'),
  (ARRAY['Table', 'Chair', 'Lamp', 'Couch', 'Desk', 'Shelf', 'Rug', 'Clock'])[(i % 8) + 1]
    || ' ' || (ARRAY['Oak', 'Steel', 'Walnut', 'Glass', 'Pine'])[(i % 5) + 1]
    || ' #' || i,
  ((i * 389) % 1999) + 1,
  ((i * 131) % 997) + 1
FROM generate_series(1, {{products}}) AS i
ON CONFLICT DO NOTHING;
