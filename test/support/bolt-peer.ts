/**
 * A scripted Bolt routing peer (DESIGN §7): it plays the routers of a several-member cluster,
 * which one Community server cannot. It speaks just enough Bolt 5.0 (handshake, HELLO, RUN/PULL of
 * dbms.routing.getRoutingTable, ROUTE, RESET, GOODBYE) to answer with the routing table a test
 * sets, and counts the routing requests. The members it names are real sandbox Neo4j instances:
 * the data path never goes through this peer.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface PeerTable {
  ttl: number;
  writers: string[];
  readers: string[];
  routers?: string[];
}

// ---- PackStream (the subset Bolt routing needs) ----
class Struct {
  constructor(
    readonly signature: number,
    readonly fields: unknown[],
  ) {}
}

function packInto(out: number[], v: unknown): void {
  if (v === null || v === undefined) out.push(0xc0);
  else if (v === true) out.push(0xc3);
  else if (v === false) out.push(0xc2);
  else if (typeof v === 'number' && Number.isInteger(v)) {
    if (v >= -16 && v < 128) out.push(v & 0xff);
    else if (v >= -128 && v < 128) out.push(0xc8, v & 0xff);
    else if (v >= -32768 && v < 32768) out.push(0xc9, (v >> 8) & 0xff, v & 0xff);
    else {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(v));
      out.push(0xcb, ...b);
    }
  } else if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    out.push(0xc1, ...b);
  } else if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    if (bytes.length < 16) out.push(0x80 | bytes.length);
    else if (bytes.length < 256) out.push(0xd0, bytes.length);
    else out.push(0xd1, bytes.length >> 8, bytes.length & 0xff);
    out.push(...bytes);
  } else if (Array.isArray(v)) {
    if (v.length < 16) out.push(0x90 | v.length);
    else out.push(0xd4, v.length);
    for (const x of v) packInto(out, x);
  } else if (v instanceof Struct) {
    out.push(0xb0 | v.fields.length, v.signature);
    for (const x of v.fields) packInto(out, x);
  } else if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length < 16) out.push(0xa0 | entries.length);
    else out.push(0xd8, entries.length);
    for (const [k, x] of entries) {
      packInto(out, k);
      packInto(out, x);
    }
  } else throw new Error(`cannot pack ${typeof v}`);
}

class Unpacker {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  unpack(): unknown {
    const m = this.buf[this.pos++]!;
    if (m < 0x80) return m;
    if (m >= 0xf0) return m - 256;
    const hi = m & 0xf0;
    const lo = m & 0x0f;
    if (hi === 0x80) return this.str(lo);
    if (hi === 0x90) return this.list(lo);
    if (hi === 0xa0) return this.map(lo);
    if (hi === 0xb0) {
      const sig = this.buf[this.pos++]!;
      return new Struct(
        sig,
        Array.from({ length: lo }, () => this.unpack()),
      );
    }
    switch (m) {
      case 0xc0:
        return null;
      case 0xc1: {
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc8:
        return this.buf.readInt8(this.pos++);
      case 0xc9: {
        const v = this.buf.readInt16BE(this.pos);
        this.pos += 2;
        return v;
      }
      case 0xca: {
        const v = this.buf.readInt32BE(this.pos);
        this.pos += 4;
        return v;
      }
      case 0xcb: {
        const v = Number(this.buf.readBigInt64BE(this.pos));
        this.pos += 8;
        return v;
      }
      case 0xcc: {
        const n = this.buf[this.pos++]!;
        this.pos += n;
        return null;
      }
      case 0xd0:
        return this.str(this.buf[this.pos++]!);
      case 0xd1: {
        const n = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        return this.str(n);
      }
      case 0xd2: {
        const n = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        return this.str(n);
      }
      case 0xd4:
        return this.list(this.buf[this.pos++]!);
      case 0xd5: {
        const n = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        return this.list(n);
      }
      case 0xd8:
        return this.map(this.buf[this.pos++]!);
      case 0xd9: {
        const n = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        return this.map(n);
      }
      default:
        throw new Error(`unsupported PackStream marker 0x${m.toString(16)}`);
    }
  }
  private str(n: number): string {
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  private list(n: number): unknown[] {
    return Array.from({ length: n }, () => this.unpack());
  }
  private map(n: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.unpack() as string;
      o[k] = this.unpack();
    }
    return o;
  }
}

function chunk(message: Struct): Buffer {
  const body: number[] = [];
  packInto(body, message);
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 0xffff) {
    const part = body.slice(i, i + 0xffff);
    const head = Buffer.alloc(2);
    head.writeUInt16BE(part.length);
    parts.push(head, Buffer.from(part));
  }
  parts.push(Buffer.from([0, 0]));
  return Buffer.concat(parts);
}

const SUCCESS = 0x70;
const RECORD = 0x71;
const FAILURE = 0x7f;
const IGNORED = 0x7e;

export class BoltRoutingPeer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  table: PeerTable;
  /** routing-table requests answered (RUN of getRoutingTable, or ROUTE) */
  routeCalls = 0;
  /** the routing context of the last routing request */
  lastContext: unknown = undefined;
  port = 0;

  constructor(table: PeerTable) {
    this.table = table;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private servers(): { addresses: string[]; role: string }[] {
    return [
      { addresses: this.table.writers, role: 'WRITE' },
      { addresses: this.table.readers, role: 'READ' },
      { addresses: this.table.routers ?? [this.address], role: 'ROUTE' },
    ];
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    let handshaken = false;
    let message: Buffer[] = [];
    let pendingRoute = false;
    let failed = false;
    const send = (sig: number, ...fields: unknown[]) => socket.write(chunk(new Struct(sig, fields)));
    const handle = (msg: Struct) => {
      const sig = msg.signature;
      if (failed && sig !== 0x0f && sig !== 0x02) return send(IGNORED);
      switch (sig) {
        case 0x01: // HELLO
          return send(SUCCESS, { server: 'Neo4j/5.26.0', connection_id: 'bolt-peer', hints: {} });
        case 0x6a: // LOGON
        case 0x54: // TELEMETRY
          return send(SUCCESS, {});
        case 0x0f: // RESET
          failed = false;
          pendingRoute = false;
          return send(SUCCESS, {});
        case 0x02: // GOODBYE
          return socket.end();
        case 0x10: {
          // RUN
          const query = String(msg.fields[0]);
          if (/getRoutingTable/i.test(query)) {
            pendingRoute = true;
            this.lastContext = (msg.fields[1] as Record<string, unknown> | undefined)?.context;
            return send(SUCCESS, { fields: ['ttl', 'servers'], t_first: 0 });
          }
          failed = true;
          return send(FAILURE, { code: 'Neo.ClientError.Statement.SyntaxError', message: 'this routing peer only answers routing requests' });
        }
        case 0x3f: // PULL
        case 0x2f: // DISCARD
          if (pendingRoute) {
            pendingRoute = false;
            this.routeCalls++;
            if (sig === 0x3f) send(RECORD, [this.table.ttl, this.servers()]);
            return send(SUCCESS, { type: 'r', t_last: 0, db: 'system', has_more: false });
          }
          return send(SUCCESS, { has_more: false });
        case 0x66: // ROUTE
          this.routeCalls++;
          this.lastContext = msg.fields[0];
          return send(SUCCESS, {
            rt: { ttl: this.table.ttl, db: String((msg.fields[2] as Record<string, unknown> | null)?.db ?? 'neo4j'), servers: this.servers() },
          });
        case 0x11: // BEGIN
        case 0x12: // COMMIT
        case 0x13: // ROLLBACK
          return send(SUCCESS, {});
        default:
          failed = true;
          return send(FAILURE, { code: 'Neo.ClientError.Request.Invalid', message: `unsupported message 0x${sig.toString(16)}` });
      }
    };
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (!handshaken) {
        if (buf.length < 20) return;
        buf = buf.subarray(20);
        handshaken = true;
        socket.write(Buffer.from([0, 0, 0, 5])); // Bolt 5.0
      }
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < 2 + n) return;
        if (n === 0) {
          const whole = Buffer.concat(message);
          message = [];
          if (whole.length > 0) handle(new Unpacker(whole).unpack() as Struct);
        } else message.push(buf.subarray(2, 2 + n));
        buf = buf.subarray(2 + n);
      }
    });
  }
}
