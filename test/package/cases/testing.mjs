// agent-cache/testing as a backend author uses it: their own backend (asynchronous, copying values with
// structuredClone, evicting beyond maxEntries) run through the backend contract suite by their own runner,
// node:test.
// No vitest is installed in this project: the suite must load without one. And a backend with a bug must fail it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendClosedError } from 'agent-cache';
import { backendContract } from 'agent-cache/testing';

class CloneBackend {
  #entries = new Map(); // in least recently used order
  #generations = new Map();
  #base = 1;
  #top = 1;
  #closed = false;

  constructor({ maxEntries = 1000, ignoreGenerations = false } = {}) {
    this.maxEntries = maxEntries;
    this.ignoreGenerations = ignoreGenerations;
  }

  async get(key, options) {
    const stored = this.#open().get(key);
    if (stored === undefined) return undefined;
    if (
      !options?.stale &&
      !((stored.expiresAt === 0 || stored.expiresAt > Date.now()) && this.#current(stored))
    ) {
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, stored);
    return { ...stored, value: structuredClone(stored.value) };
  }

  async generations(tags) {
    this.#open();
    return tags.map((tag) => this.#generation(tag));
  }

  async set(key, entry) {
    this.#open();
    if (!this.ignoreGenerations && !this.#current(entry)) return false;
    let value;
    try {
      value = structuredClone(entry.value);
    } catch {
      return false; // a function, say: not stored
    }
    this.#entries.delete(key);
    this.#entries.set(key, { ...entry, tags: [...entry.tags], gens: [...entry.gens], value });
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value);
    return true;
  }

  async bump(tags) {
    this.#open();
    for (const tag of new Set(tags)) this.#generations.set(tag, ++this.#top);
  }

  async delete(key) {
    this.#open().delete(key);
  }

  async clearSession(sessionId) {
    for (const [key, entry] of this.#open()) if (entry.sessionId === sessionId) this.#entries.delete(key);
  }

  async clear() {
    this.#open().clear();
    this.#generations.clear();
    this.#base = this.#top = this.#top + 1;
  }

  async close() {
    this.#closed = true;
  }

  #open() {
    if (this.#closed) throw new BackendClosedError('CloneBackend');
    return this.#entries;
  }

  #generation(tag) {
    return this.#generations.get(tag) ?? this.#base;
  }

  #current(entry) {
    return entry.tags.every((tag, i) => this.#generation(tag) === entry.gens[i]);
  }
}

// A backend that stores whatever generations it is given fails the suite: run its cases by hand first.
const registered = [];
backendContract('IgnoresGenerations', () => new CloneBackend({ ignoreGenerations: true }), {
  it: (name, body) => void registered.push({ name, body }),
  serializes: true,
});
const failed = [];
for (const { name, body } of registered) await body().catch(() => failed.push(name));
assert.ok(
  failed.some((name) => /refuses a write recorded before a bump/.test(name)),
  `the suite passed a backend that ignores generations (failed: ${JSON.stringify(failed)})`,
);

// The sound backend, with the user's runner.
backendContract('CloneBackend', (options) => new CloneBackend(options), {
  describe,
  it,
  evicts: true,
  serializes: true,
});
