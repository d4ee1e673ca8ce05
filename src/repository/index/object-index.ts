import { typeCode, typeFromCode, type ObjectType } from '../pack/pack-format.js';

export interface ObjectLocation {
  /** The pack's name (hex SHA-256). */
  pack: string;
  type: ObjectType;
  offset: number;
  length: number;
  rawLength: number;
}

/** One pack's objects, as entry numbers into the index (ascending: the order of adding). */
export interface PackGroup {
  pack: string;
  entries: Uint32Array;
}

const ID_LENGTH = 32;

/**
 * Where every object of the repository lives, held in memory for deduplication and reads.
 * A Map keyed by hex strings costs ~150 bytes an object; this open-addressing table over typed
 * arrays costs ~60, which matters at tens of millions of objects. Ids are HMAC outputs, so
 * their first bytes are already a uniform hash.
 */
export class ObjectIndex {
  private capacity = 0;
  private count = 0;
  private ids = Buffer.alloc(0);
  private packNumbers = new Uint32Array(0);
  private offsets = new Uint32Array(0);
  private lengths = new Uint32Array(0);
  private rawLengths = new Uint32Array(0);
  private types = new Uint8Array(0);
  /** Slot -> entry number + 1; 0 is an empty slot. Twice the capacity keeps probes short. */
  private slots = new Int32Array(0);
  private readonly packNames: string[] = [];
  private readonly packNumberByName = new Map<string, number>();
  private cleared = 0;

  constructor(initialCapacity = 1024) {
    this.grow(Math.max(16, initialCapacity));
  }

  /**
   * Makes room for `objects` in all, at once: loading a large index by doubling would hold the
   * old arrays and the new ones together at each step, and leave up to half of the last unused.
   */
  reserve(objects: number): void {
    if (objects > this.capacity) this.grow(Math.ceil(objects));
  }

  get size(): number {
    return this.count;
  }

  /**
   * Changes whenever entry numbers stop naming the objects they named (clear): whoever keeps a
   * bitset over entries starts it afresh then.
   */
  get epoch(): number {
    return this.cleared;
  }

  has(id: Uint8Array): boolean {
    return this.find(id) >= 0;
  }

  get(id: Uint8Array): ObjectLocation | undefined {
    const entry = this.find(id);
    return entry < 0 ? undefined : this.location(entry);
  }

  /** Records an object; an id already known keeps its first location. Returns false then. */
  add(id: Uint8Array, location: ObjectLocation): boolean {
    if (id.length !== ID_LENGTH) throw new Error('object ids are 32 bytes');
    if (this.find(id) >= 0) return false;
    if (this.count >= this.capacity) this.grow(this.capacity * 2);
    const entry = this.count++;
    this.ids.set(id, entry * ID_LENGTH);
    this.packNumbers[entry] = this.packNumber(location.pack);
    this.offsets[entry] = location.offset;
    this.lengths[entry] = location.length;
    this.rawLengths[entry] = location.rawLength;
    this.types[entry] = typeCode(location.type);
    this.insertSlot(entry);
    return true;
  }

  /** The object's place in the order of adding (0, 1, ...), or -1: for bitsets over objects. */
  entryNumber(id: Uint8Array): number {
    return this.find(id);
  }

  /** Moves a known object to a new location (stored again, its old pack condemned). */
  relocate(id: Uint8Array, location: ObjectLocation): void {
    const entry = this.find(id);
    if (entry < 0) throw new Error('relocate: the object is not in the index');
    this.packNumbers[entry] = this.packNumber(location.pack);
    this.offsets[entry] = location.offset;
    this.lengths[entry] = location.length;
    this.rawLengths[entry] = location.rawLength;
    this.types[entry] = typeCode(location.type);
  }

  /** Forgets every object (the index is being loaded again). */
  clear(): void {
    this.count = 0;
    this.cleared++;
    this.slots.fill(0);
    this.packNames.length = 0;
    this.packNumberByName.clear();
  }

  packs(): readonly string[] {
    return this.packNames;
  }

  *entries(): IterableIterator<[Buffer, ObjectLocation]> {
    for (let entry = 0; entry < this.count; entry++) {
      yield [
        Buffer.from(this.ids.subarray(entry * ID_LENGTH, (entry + 1) * ID_LENGTH)),
        this.location(entry),
      ];
    }
  }

  /** The id of entry number `entry` (a copy). */
  idAt(entry: number): Buffer {
    this.checkEntry(entry);
    return Buffer.from(this.ids.subarray(entry * ID_LENGTH, (entry + 1) * ID_LENGTH));
  }

  /** The location of entry number `entry`. */
  locationAt(entry: number): ObjectLocation {
    this.checkEntry(entry);
    return this.location(entry);
  }

  /**
   * Every pack that holds an object, in the order of its first entry, with its objects' entry
   * numbers: a pack at a time without an object per entry (check at tens of millions of
   * objects). A counting sort over the pack numbers: 4 bytes an object, shared by the groups.
   * A pack left with no object (all relocated away) is not listed.
   */
  packGroups(): PackGroup[] {
    const packCount = this.packNames.length;
    const starts = new Uint32Array(packCount + 1);
    for (let entry = 0; entry < this.count; entry++) {
      const slot = (this.packNumbers[entry] ?? 0) + 1;
      starts[slot] = (starts[slot] ?? 0) + 1;
    }
    for (let pack = 0; pack < packCount; pack++)
      starts[pack + 1] = (starts[pack + 1] ?? 0) + (starts[pack] ?? 0);
    const order = new Uint32Array(this.count);
    const next = starts.slice(0, packCount);
    for (let entry = 0; entry < this.count; entry++) {
      const pack = this.packNumbers[entry] ?? 0;
      const at = next[pack] ?? 0;
      order[at] = entry;
      next[pack] = at + 1;
    }
    const groups: PackGroup[] = [];
    for (let pack = 0; pack < packCount; pack++) {
      const entries = order.subarray(starts[pack], starts[pack + 1]);
      if (entries.length > 0) groups.push({ pack: this.packNames[pack] ?? '', entries });
    }
    // Pack numbers follow the first add naming a pack, which is not its first entry when a
    // relocation named it; each group's entries ascend, so its first is the pack's first entry.
    return groups.sort((a, b) => (a.entries[0] ?? 0) - (b.entries[0] ?? 0));
  }

  private checkEntry(entry: number): void {
    if (!Number.isInteger(entry) || entry < 0 || entry >= this.count)
      throw new RangeError(`entry ${entry} is not in the index (size ${this.count})`);
  }

  private location(entry: number): ObjectLocation {
    return {
      pack: this.packNames[this.packNumbers[entry] ?? 0] ?? '',
      type: typeFromCode(this.types[entry] ?? 255),
      offset: this.offsets[entry] ?? 0,
      length: this.lengths[entry] ?? 0,
      rawLength: this.rawLengths[entry] ?? 0,
    };
  }

  private packNumber(name: string): number {
    let number = this.packNumberByName.get(name);
    if (number === undefined) {
      number = this.packNames.length;
      this.packNames.push(name);
      this.packNumberByName.set(name, number);
    }
    return number;
  }

  private find(id: Uint8Array): number {
    const mask = this.slots.length - 1;
    let slot = hashOf(id) & mask;
    for (;;) {
      const value = this.slots[slot] ?? 0;
      if (value === 0) return -1;
      const entry = value - 1;
      if (this.sameId(entry, id)) return entry;
      slot = (slot + 1) & mask;
    }
  }

  private sameId(entry: number, id: Uint8Array): boolean {
    const base = entry * ID_LENGTH;
    for (let i = 0; i < ID_LENGTH; i++) if (this.ids[base + i] !== id[i]) return false;
    return true;
  }

  private insertSlot(entry: number): void {
    const mask = this.slots.length - 1;
    let slot = hashOf(this.ids.subarray(entry * ID_LENGTH, entry * ID_LENGTH + 4)) & mask;
    while ((this.slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  private grow(capacity: number): void {
    const copy = <T extends Uint32Array | Uint8Array>(
      from: T,
      make: (n: number) => T,
      width = 1,
    ): T => {
      const to = make(capacity * width);
      to.set(from.subarray(0, this.count * width));
      return to;
    };
    this.ids = copy(this.ids, (n) => Buffer.alloc(n), ID_LENGTH);
    this.packNumbers = copy(this.packNumbers, (n) => new Uint32Array(n));
    this.offsets = copy(this.offsets, (n) => new Uint32Array(n));
    this.lengths = copy(this.lengths, (n) => new Uint32Array(n));
    this.rawLengths = copy(this.rawLengths, (n) => new Uint32Array(n));
    this.types = copy(this.types, (n) => new Uint8Array(n));
    this.capacity = capacity;
    // A power of two at least twice the entries: slots are found by masking the hash (any other
    // size would leave some unreachable), and half empty keeps probe chains short.
    let slots = 32;
    while (slots < capacity * 2) slots *= 2;
    this.slots = new Int32Array(slots);
    for (let entry = 0; entry < this.count; entry++) this.insertSlot(entry);
  }
}

function hashOf(id: Uint8Array): number {
  return ((id[0] ?? 0) | ((id[1] ?? 0) << 8) | ((id[2] ?? 0) << 16) | ((id[3] ?? 0) << 24)) >>> 0;
}
