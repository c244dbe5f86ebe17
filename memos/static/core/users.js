// Users by username, each asked of the server at most once per page load. The names asked for in the
// same tick (all the cards of a feed page) go out together, 100 a BatchGetUsers call. A username that
// names no active user maps to null; so does every name for a guest of a private instance, who may not
// look users up.
import {call} from './api.js';
import {instanceIsPublic, state} from './state.js';

const known = new Map();
let gathering = null;

async function lookUp(names) {
  const found = new Map();
  for (let at = 0; at < names.length; at += 100) {
    const part = names.slice(at, at + 100);
    try {
      const {users = []} = await call('UserService', 'BatchGetUsers', {usernames: part});
      for (const user of users) found.set(user.username, user);
    } catch {
      // Not remembered: a later card asks again.
      part.forEach((name) => known.delete(name));
    }
  }
  return found;
}

function ask(name) {
  if (!gathering) {
    const names = [];
    gathering = {names, found: Promise.resolve().then(() => {
      gathering = null;
      return lookUp(names);
    })};
  }
  gathering.names.push(name);
  return gathering.found.then((found) => found.get(name) || null);
}

export const creatorName = (memo) => memo.creator.split('/')[1];

export async function authorOf(memo) {
  return (await usersNamed([creatorName(memo)])).get(creatorName(memo));
}

export async function usersNamed(usernames) {
  if (!state.user && !instanceIsPublic()) return new Map(usernames.map((name) => [name, null]));
  for (const name of usernames) if (!known.has(name)) known.set(name, ask(name));
  return new Map(await Promise.all(usernames.map(async (name) => [name, await known.get(name)])));
}
