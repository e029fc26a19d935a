// An ordered map from bigint to V: an AVL tree, O(log n) per operation.
// Hand-written because the npm candidates do not fit: sorted-btree (well kept,
// but 330 kB of features we do not need), @js-sdsl/ordered-map (iterator API,
// last release 2023), bintrees (untyped, last release 2017),
// functional-red-black-tree (persistent: allocates on every update).

interface Node<V> {
  key: bigint;
  value: V;
  left: Node<V> | undefined;
  right: Node<V> | undefined;
  height: number;
}

export interface Entry<V> {
  readonly key: bigint;
  readonly value: V;
}

export class OrderedMap<V> {
  #root: Node<V> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: bigint): V | undefined {
    let n = this.#root;
    while (n) {
      if (key === n.key) return n.value;
      n = key < n.key ? n.left : n.right;
    }
    return undefined;
  }

  /** The entry with the greatest key ≤ key. */
  floor(key: bigint): Entry<V> | undefined {
    let n = this.#root;
    let best: Node<V> | undefined;
    while (n) {
      if (n.key === key) return n;
      if (n.key < key) {
        best = n;
        n = n.right;
      } else n = n.left;
    }
    return best;
  }

  /** The entry with the least key ≥ key. */
  ceiling(key: bigint): Entry<V> | undefined {
    let n = this.#root;
    let best: Node<V> | undefined;
    while (n) {
      if (n.key === key) return n;
      if (n.key > key) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best;
  }

  set(key: bigint, value: V): void {
    this.#root = this.#insert(this.#root, key, value);
  }

  delete(key: bigint): boolean {
    const before = this.#size;
    this.#root = this.#remove(this.#root, key);
    return this.#size < before;
  }

  *entries(): Generator<Entry<V>> {
    const stack: Array<Node<V>> = [];
    let n = this.#root;
    while (n || stack.length > 0) {
      while (n) {
        stack.push(n);
        n = n.left;
      }
      const top = stack.pop()!;
      yield top;
      n = top.right;
    }
  }

  #insert(n: Node<V> | undefined, key: bigint, value: V): Node<V> {
    if (!n) {
      this.#size++;
      return { key, value, left: undefined, right: undefined, height: 1 };
    }
    if (key === n.key) {
      n.value = value;
      return n;
    }
    if (key < n.key) n.left = this.#insert(n.left, key, value);
    else n.right = this.#insert(n.right, key, value);
    return balance(n);
  }

  #remove(n: Node<V> | undefined, key: bigint): Node<V> | undefined {
    if (!n) return undefined;
    if (key < n.key) n.left = this.#remove(n.left, key);
    else if (key > n.key) n.right = this.#remove(n.right, key);
    else {
      this.#size--;
      if (!n.left) return n.right;
      if (!n.right) return n.left;
      let successor = n.right;
      while (successor.left) successor = successor.left;
      n.right = removeMin(n.right);
      successor.left = n.left;
      successor.right = n.right;
      return balance(successor);
    }
    return balance(n);
  }
}

const height = <V>(n: Node<V> | undefined): number => (n ? n.height : 0);

function update<V>(n: Node<V>): void {
  n.height = 1 + Math.max(height(n.left), height(n.right));
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance<V>(n: Node<V>): Node<V> {
  update(n);
  const skew = height(n.left) - height(n.right);
  if (skew > 1) {
    if (height(n.left!.left) < height(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (skew < -1) {
    if (height(n.right!.right) < height(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

function removeMin<V>(n: Node<V>): Node<V> | undefined {
  if (!n.left) return n.right;
  n.left = removeMin(n.left);
  return balance(n);
}
