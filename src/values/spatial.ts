/**
 * Neo4j's Point (`org.neo4j.values.storable.PointValue`) read from its typed-JSON text
 * ("SRID=4326;POINT (lon lat)", "SRID=9157;POINT Z (x y z)"), with Neo4j's order (CRS code, then
 * 2D before 3D, then each coordinate by Java's Double.compare) and its equality (same CRS and
 * bit-identical coordinates: -0.0 is not 0.0, NaN is NaN).
 *
 * Must never: compare points of different CRSs by coordinates first, or treat -0.0 as 0.0 in
 * equality (Neo4j uses Arrays.equals on the doubles).
 */
import { javaDoubleToString } from './java-double.js';
import { javaDoubleCompare } from './numbers.js';

export interface PointParts {
  srid: number;
  coords: number[];
}

const POINT_RE = /^SRID=(\d+);\s*POINT\s*(?:Z\s*)?\(\s*(\S+)\s+(\S+)(?:\s+(\S+))?\s*\)$/i;

export function parsePoint(text: string): PointParts {
  const m = POINT_RE.exec(text);
  if (!m) throw new TypeError(`Not a Point value as Neo4j writes it: ${JSON.stringify(text)}.`);
  const coords = [m[2]!, m[3]!, ...(m[4] === undefined ? [] : [m[4]])].map(Number);
  return { srid: Number(m[1]), coords };
}

/** PointValue.compareTo */
export function comparePoints(a: PointParts, b: PointParts): number {
  if (a.srid !== b.srid) return a.srid < b.srid ? -1 : 1;
  if (a.coords.length !== b.coords.length) return a.coords.length < b.coords.length ? -1 : 1;
  for (let i = 0; i < a.coords.length; i++) {
    const c = javaDoubleCompare(a.coords[i]!, b.coords[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** equal exactly when PointValue.equals says so */
export function pointKey(p: PointParts): string {
  return `${p.srid}(${p.coords.map(javaDoubleToString).join(' ')})`;
}
