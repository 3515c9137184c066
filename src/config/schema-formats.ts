/**
 * Formats of the topology file's fields shared by its sections: names, addresses, URLs,
 * environment variable names.
 */
import * as z from 'zod';

export const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must start with a letter and contain only letters, digits, "_" and "-" (at most 63 characters)');

export const hostPort = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be "host:port"');

export const boltUrl = z
  .string()
  .regex(/^(neo4j|bolt)(\+s|\+ssc)?:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'must be a neo4j:// or bolt:// URL such as "neo4j://10.0.0.1:7687"');

export const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL');

export const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');

export const positiveInt = () => z.number().int().positive();
