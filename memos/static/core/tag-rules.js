// The signed-in user's tag rules (UserSetting TAGS, edited in Settings > Tags): a rule's key is a
// tag name or a regular expression matching the whole tag. The first rule that matches a tag gives
// its pill a colour; a matching rule with blurContent hides the memo until revealed.
import {state} from './state.js';

// Nested quantifiers such as (a+)+ can take exponential time in the browser's backtracking engine
// (the server's RE2 check accepts them): such a key only ever matches its own text.
export const RISKY = /\([^()]*[*+}][^()]*\)[*+{]/;
const compiled = new Map();

export function patternOf(key) {
  if (!compiled.has(key)) {
    let pattern = null;
    try {
      if (!RISKY.test(key)) pattern = new RegExp(`^(?:${key})$`, 'u');
    } catch {
      // not a regular expression: compared as a name
    }
    compiled.set(key, pattern);
  }
  return compiled.get(key);
}

export const matches = (key, tag) => key === tag || Boolean(patternOf(key)?.test(tag));

export function ruleFor(tag) {
  for (const [key, rule] of Object.entries(state.tagRules)) {
    if (matches(key, tag)) return rule;
  }
  return null;
}

export const isSensitive = (memo) => (memo.tags || []).some((tag) => ruleFor(tag)?.blurContent);

// google.type.Color (channels 0..1) <-> '#rrggbb' of a colour input.
export const toHex = ({red = 0, green = 0, blue = 0}) =>
  '#' + [red, green, blue].map((channel) => Math.round(channel * 255).toString(16).padStart(2, '0')).join('');
export const fromHex = (hex) => {
  const [red, green, blue] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255);
  return {red, green, blue};
};
