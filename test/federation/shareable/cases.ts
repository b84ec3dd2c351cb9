import type { Case } from '../lib/types.ts';

// Both a and b answer version '1.0', shop { name: 'Corner' }, featured p7; only a knows the city (Lyon)
// and Product.name (Lamp), only b knows open (true) and stock (3), only c knows color (red).
export const cases: Case[] = [
  { name: 'a shareable root scalar', query: '{ version }', expected: { data: { version: '1.0' } } },
  {
    name: 'a shareable root with a shareable value type',
    query: '{ shop { name } }',
    expected: { data: { shop: { name: 'Corner' } } },
  },
  {
    name: 'a shareable value type, a field only one subgraph has',
    query: '{ shop { name city } }',
    expected: { data: { shop: { name: 'Corner', city: 'Lyon' } } },
  },
  {
    name: 'a shareable value type, a field only the other subgraph has',
    query: '{ shop { name open } }',
    expected: { data: { shop: { name: 'Corner', open: true } } },
  },
  {
    name: 'a shareable value type, fields from both subgraphs',
    query: '{ shop { city open } }',
    expected: { data: { shop: { city: 'Lyon', open: true } } },
  },
  {
    name: 'an entity through a shareable root, fields from three subgraphs',
    query: '{ featured { id name stock color } }',
    expected: { data: { featured: { id: 'p7', name: 'Lamp', stock: 3, color: 'red' } } },
  },
  {
    name: 'an entity through a shareable root, one remote field',
    query: '{ featured { color } }',
    expected: { data: { featured: { color: 'red' } } },
  },
  {
    name: 'shareable and non-shareable roots together',
    query: '{ version hello shop { name } }',
    expected: { data: { version: '1.0', hello: 'hi', shop: { name: 'Corner' } } },
  },
  {
    name: 'a shareable root asked twice under aliases',
    query: '{ x: shop { city } y: shop { open } }',
    expected: { data: { x: { city: 'Lyon' }, y: { open: true } } },
  },
];
