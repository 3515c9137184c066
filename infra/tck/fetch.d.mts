export const TCK_GROUP: string;
export const TCK_ARTIFACT: string;
export const TCK_VERSION: string;
export const TCK_SHA256: string;
export const TCK_DIR: string;
export interface TckLayout {
  /** the extracted jar: features/, graphs/, META-INF/ */
  dir: string;
  featuresDir: string;
  graphsDir: string;
  version: string;
}
export function ensureTck(options?: { log?: (s: string) => void }): Promise<TckLayout>;
