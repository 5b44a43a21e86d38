import { RESERVED_FIELDS } from './session-store';

/**
 * Watches one request's session object and reports the fields it changed, so only
 * those are written back (with `merge`): two parallel requests that change different
 * fields then both keep their change. A field assigned or deleted is changed; an object
 * field is snapshotted when first read and compared at the end, which catches in-place
 * changes such as `req.session.cart.push(item)` without copying the whole session.
 */
export class SessionChanges<S extends object> {
  readonly proxy: S;
  private readonly assigned = new Set<string>();
  private readonly snapshots = new Map<string, string>();

  constructor(private readonly target: S) {
    const { assigned, snapshots } = this;
    this.proxy = new Proxy(target, {
      get(object, field, receiver) {
        const value: unknown = Reflect.get(object, field, receiver);
        if (typeof field === 'string' && typeof value === 'object' && value !== null && !assigned.has(field) && !snapshots.has(field)) {
          snapshots.set(field, JSON.stringify(value));
        }
        return value;
      },
      set(object, field, value) {
        if (typeof field === 'string') {
          refuseManaged(field);
          assigned.add(field);
        }
        return Reflect.set(object, field, value);
      },
      deleteProperty(object, field) {
        if (typeof field === 'string') {
          refuseManaged(field);
          assigned.add(field);
        }
        return Reflect.deleteProperty(object, field);
      },
      defineProperty(object, field, descriptor) {
        if (typeof field === 'string') {
          refuseManaged(field);
          assigned.add(field);
        }
        return Reflect.defineProperty(object, field, descriptor);
      },
    });
  }

  /** The changed fields and their new values (a deleted field is null), or undefined when nothing changed. */
  patch(): Record<string, unknown> | undefined {
    let patch: Record<string, unknown> | undefined;
    const target = this.target as Record<string, unknown>;
    for (const field of this.assigned) (patch ??= {})[field] = target[field] ?? null;
    for (const [field, before] of this.snapshots) {
      if (this.assigned.has(field)) continue;
      if (JSON.stringify(target[field]) !== before) (patch ??= {})[field] = target[field] ?? null;
    }
    return patch;
  }

  /** Start recording afresh (after the changes so far were written). */
  reset(): void {
    this.assigned.clear();
    this.snapshots.clear();
  }

  /** The session without the proxy (for validation). */
  get value(): S {
    return this.target;
  }
}

function refuseManaged(field: string): void {
  if (RESERVED_FIELDS.has(field)) {
    throw new TypeError(`session.${field} is managed by lix-cache-session and cannot be changed. To switch users, call login(); to get a new id, regenerate the session.`);
  }
}
