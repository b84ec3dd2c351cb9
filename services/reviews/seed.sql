-- Deterministic reviews spread over {{products}} products and {{users}} users.
INSERT INTO reviews.reviews (id, product_upc, author_id, body, rating, created_at)
SELECT
  i,
  lpad((((i * 7) % {{products}}) + 1)::text, 6, '0'),
  (((i * 13) % {{users}}) + 1)::text,
  'Review ' || i || ': '
    || (ARRAY['Solid build.', 'Arrived late.', 'Would buy again.', 'Not as pictured.', 'Great value.'])[(i % 5) + 1],
  (i % 5) + 1,
  timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, {{reviews}}) AS i
ON CONFLICT DO NOTHING;

-- Seeded rows bring their own ids, so move the sequence past them or addReview would collide.
SELECT setval(
  pg_get_serial_sequence('reviews.reviews', 'id'),
  (SELECT coalesce(max(id), 0) + 1 FROM reviews.reviews),
  false
);
