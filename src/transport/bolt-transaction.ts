/**
 * An explicit transaction on the Bolt transport: its session is held for the life of the
 * transaction, BEGIN is checked at once, each statement is collected under its own bounds
 * (bolt-collect.ts), and a rollback does not wait long on a statement that was stopped mid-way.
 */
import type { Session, Transaction } from 'neo4j-driver';
import { ResultBudget, deadlineExceeded } from '../limits/result-budget.js';
import { CANCEL_SETTLE_MS, collect } from './bolt-collect.js';
import { countersOf, EMPTY_COUNTERS, mapDriverError, notificationsOf, paramsToDriver, txConfigOf } from './bolt-mapping.js';
import type { BeginRequest, MemberRef, StatementBounds, TransactionHandle } from './types.js';

/** begins a transaction on `session` (closed here when BEGIN fails, else by commit or rollback) */
export async function beginOn(session: Session, member: MemberRef, req: BeginRequest, defaultMaxResultBytes: number): Promise<TransactionHandle> {
  let tx: Transaction;
  try {
    tx = session.beginTransaction(txConfigOf(req));
    // surface BEGIN failures (auth, unknown database) now rather than on the first statement
    await tx.run('RETURN 1').summary();
  } catch (err) {
    await session.close().catch(() => undefined);
    throw mapDriverError(err);
  }
  // set when a statement was stopped (result budget or deadline): the transaction is over, and
  // its rollback must not wait on a statement that may still be computing
  let stopped = false;
  return {
    member,
    run: async (statement, parameters, maxRows, bounds?: StatementBounds) => {
      const budget = new ResultBudget({ maxBytes: bounds?.maxResultBytes ?? defaultMaxResultBytes, deadline: bounds?.deadline });
      const run = collect(tx, statement, paramsToDriver(parameters), maxRows, budget);
      const timer = bounds?.deadline === undefined ? undefined : setTimeout(() => run.abort(deadlineExceeded()), Math.max(0, bounds.deadline - Date.now()));
      try {
        const { fields, values, summary, error } = await run.done;
        return {
          fields,
          values,
          bookmarks: [],
          counters: summary ? countersOf(summary) : EMPTY_COUNTERS,
          notifications: summary ? notificationsOf(summary) : [],
          ...(error ? { error } : {}),
        };
      } catch (err) {
        throw mapDriverError(err);
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        if (run.stopped) stopped = true;
      }
    },
    commit: async () => {
      try {
        await tx.commit();
        return session.lastBookmarks();
      } catch (err) {
        throw mapDriverError(err);
      } finally {
        await session.close().catch(() => undefined);
      }
    },
    rollback: async () => {
      try {
        // the rollback waits for a cancelled statement's stream to settle; one still computing
        // past the deadline is not waited for long: closing the session interrupts it
        const rolledBack = tx.isOpen() ? tx.rollback() : Promise.resolve();
        if (stopped) await Promise.race([rolledBack.catch(() => undefined), new Promise((r) => setTimeout(r, CANCEL_SETTLE_MS))]);
        else await rolledBack;
      } catch {
        // a failed rollback leaves nothing to undo: the server rolls back on close
      } finally {
        await session.close().catch(() => undefined);
      }
    },
  };
}
