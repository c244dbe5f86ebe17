// Settings > Tags (S8): the user's tag rules. A rule is a tag name or a regular expression matching
// whole tags, with an optional pill colour and "blur content"; all rules are saved together, and
// Save is enabled only when something changed.
import {call} from '../../core/api.js';
import {h, iconButton} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {set, state} from '../../core/state.js';
import {fromHex, matches, patternOf, RISKY, toHex} from '../../core/tag-rules.js';
import {toast} from '../../core/ui.js';
import {attempt} from '../../core/attempt.js';

// Why a new rule cannot be added ('' when it can): patternOf() refuses the same keys the matching does.
function problemWith(key, rules) {
  if (Object.hasOwn(rules, key)) return t('tags.duplicate');
  if (patternOf(key)) return '';
  return RISKY.test(key) ? t('tags.risky') : t('tags.invalid');
}

export async function tagRules(rerender) {
  const {tagCount = {}} = await call('UserService', 'GetUserStats', {name: state.user.name}).catch(() => ({}));
  const rules = structuredClone(state.tagRules || {});
  const saved = JSON.stringify(rules);
  const save = h('button.btn.btn-primary', {disabled: true, onclick: store}, t('common.save'));
  const changed = () => (save.disabled = JSON.stringify(rules) === saved);
  const rows = h('ul.card.rule-list');
  const input = h('input.input', {list: 'known-tags', placeholder: t('tags.new-rule'), 'aria-label': t('tags.new-rule')});

  function store() {
    return attempt(async () => {
      await call('UserService', 'UpdateUserSetting', {
        setting: {name: `${state.user.name}/settings/TAGS`, tagsSetting: {tags: rules}}, updateMask: 'tags'});
      set({tagRules: rules});
    }, t('settings.saved'), rerender);
  }

  const uses = (key) => Object.entries(tagCount)
    .filter(([tag]) => matches(key, tag)).reduce((sum, [, count]) => sum + count, 0);

  function row(key, rule) {
    const color = h('input.color', {type: 'color', value: rule.backgroundColor ? toHex(rule.backgroundColor) : '#808080',
      'aria-label': t('tags.color', {tag: key}), oninput: () => {
        rule.backgroundColor = fromHex(color.value);
        clearColor.hidden = false;
        changed();
      }});
    const clearColor = iconButton('close', t('tags.clear-color', {tag: key}), () => {
      delete rule.backgroundColor;
      clearColor.hidden = true;
      changed();
    }, {hidden: !rule.backgroundColor});
    const blur = h('input.switch', {type: 'checkbox', role: 'switch', checked: Boolean(rule.blurContent),
      onchange: () => {
        rule.blurContent = blur.checked;
        changed();
      }});
    return h('li.rule-row',
      h('span.grow', h('code', key), ' ', h('span.muted.small', t('tags.uses', {count: uses(key)}))),
      color, clearColor,
      h('label.rule-blur', blur, t('tags.blur')),
      iconButton('trash', t('tags.delete', {tag: key}), () => {
        delete rules[key];
        draw();
      }));
  }

  function draw() {
    const entries = Object.entries(rules);
    rows.replaceChildren(...(entries.length ? entries.map(([key, rule]) => row(key, rule))
      : [h('li.empty-note', t('tags.empty'))]));
    changed();
  }

  draw();
  return h('div.settings-form',
    h('form.inline-form', {onsubmit: (event) => {
      event.preventDefault();
      const key = input.value.trim();
      const problem = key && problemWith(key, rules);
      if (problem) return toast(problem, 'error');
      if (key) rules[key] = {};
      input.value = '';
      draw();
    }}, input, h('button.btn', {type: 'submit'}, t('tags.add'))),
    h('datalist', {id: 'known-tags'}, Object.keys(tagCount).map((tag) => h('option', {value: tag}))),
    rows, h('div.form-actions', save));
}
