-- A stock row for every seeded product; every fifth (000002, 000007, …) is sold out.
INSERT INTO inventory.stock (upc, quantity)
SELECT
  lpad(i::text, 6, '0'),
  CASE WHEN i % 5 = 2 THEN 0 ELSE ((i * 37) % 100) + 1 END
FROM generate_series(1, {{products}}) AS i
ON CONFLICT DO NOTHING;
