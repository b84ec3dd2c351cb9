-- Deterministic users '1'..'{{users}}'; safe to run again (existing ids are kept).
INSERT INTO accounts.users (id, username, name, email)
SELECT
  i::text,
  'user' || i,
  (ARRAY['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'])[(i % 8) + 1]
    || ' '
    || (ARRAY['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'])[(i % 7) + 1],
  'user' || i || '@example.com'
FROM generate_series(1, {{users}}) AS i
ON CONFLICT DO NOTHING;
