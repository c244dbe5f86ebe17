// Users by username, each asked of the server at most once per page load (BatchGetUsers takes 100
// names a call). A username that names no active user maps to null.
import {call} from './api.js';

const known = new Map();

export async function usersNamed(usernames) {
  const wanted = [...new Set(usernames)].filter((name) => !known.has(name));
  for (let at = 0; at < wanted.length; at += 100) {
    const part = wanted.slice(at, at + 100);
    const asked = call('UserService', 'BatchGetUsers', {usernames: part}).then(
      ({users = []}) => new Map(users.map((user) => [user.username, user])),
      // Not remembered: the next card asks again.
      () => part.forEach((name) => known.delete(name)));
    for (const name of part) known.set(name, asked.then((found) => found?.get(name) || null));
  }
  return new Map(await Promise.all(usernames.map(async (name) => [name, await known.get(name)])));
}
