// Settings (admin): the instance's GENERAL ("System"), MEMO_RELATED, STORAGE and NOTIFICATION
// settings, and its resource statistics.
import {call} from '../../core/api.js';
import {h, icon} from '../../core/dom.js';
import {relativeTime, t} from '../../core/i18n.js';
import {set, state} from '../../core/state.js';
import {attempt} from '../../core/attempt.js';
import {settingsForm} from '../../components/form.js';

const VALUE_FIELD = {GENERAL: 'generalSetting', MEMO_RELATED: 'memoRelatedSetting', STORAGE: 'storageSetting', NOTIFICATION: 'notificationSetting'};

// The value of an instance setting, read, or stored when `value` is given.
async function setting(key, value) {
  const name = `instance/settings/${key}`;
  const answer = await (value
    ? call('InstanceService', 'UpdateInstanceSetting', {setting: {name, [VALUE_FIELD[key]]: value}})
    : call('InstanceService', 'GetInstanceSetting', {name}));
  return answer[VALUE_FIELD[key]] || {};
}

export async function system() {
  const [general, {identityProviders = []}] = await Promise.all([setting('GENERAL'),
    call('IdentityProviderService', 'ListIdentityProviders')]);
  const locked = Boolean(state.profile.demo);
  return settingsForm({
    values: {weekStartDayOffset: 0, ...general},
    fields: [
      ['customProfile.title', t('system.name'), 'text', {placeholder: 'Memos'}],
      ['customProfile.logoUrl', t('system.logo'), 'url'],
      ['customProfile.description', t('common.description')],
      ['additionalStyle', t('system.style'), 'textarea', {placeholder: 'body { }'}],
      ['additionalScript', t('system.script'), 'textarea'],
      ['disallowUserRegistration', t('system.no-registration'), 'checkbox', {readOnly: locked}],
      // Without an identity provider nobody but the admin could sign in any more.
      ['disallowPasswordAuth', t('system.no-password'), 'checkbox', {
        readOnly: locked || (!identityProviders.length && !general.disallowPasswordAuth),
        hint: !identityProviders.length && t('system.no-password-hint')}],
      ['disallowChangeUsername', t('system.no-username-change'), 'checkbox'],
      ['disallowChangeNickname', t('system.no-nickname-change'), 'checkbox'],
      ['weekStartDayOffset', t('system.week-start'), 'select',
        {options: [[-1, t('system.saturday')], [0, t('system.sunday')], [1, t('system.monday')]]}],
    ],
    onSave: async (value) => set({general: await setting('GENERAL', value)}),
  });
}

// The reactions offered on memos: emoji pills with a remove button, and an input to add one.
function reactionsEditor(initial) {
  const list = [...initial];
  const pills = h('div.chips');
  const input = h('input.input.narrow', {'aria-label': t('memo-settings.reaction'), onkeydown: (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      add();
    }
  }});
  // Each drawing is a change of the form (the first, before the form holds the pills, reaches nobody).
  const draw = () => {
    pills.replaceChildren(...list.map((emoji) => h('span.chip', emoji,
      h('button.chip-remove', {'aria-label': t('feed.remove-filter', {value: emoji}), disabled: list.length === 1,
        onclick: () => {
          list.splice(list.indexOf(emoji), 1);
          draw();
        }}, icon('close')))));
    pills.dispatchEvent(new Event('change', {bubbles: true}));
  };
  const add = () => {
    const emoji = input.value.trim();
    if (emoji && !list.includes(emoji)) list.push(emoji);
    input.value = '';
    draw();
  };
  draw();
  return {
    el: h('div.field', h('span.field-label', t('memo-settings.reactions')), pills,
      h('div.inline-form', input, h('button.btn', {onclick: add}, t('memo-settings.add')))),
    apply: (now) => {
      now.reactions = [...list];
    },
  };
}

export async function memoSettings() {
  const value = await setting('MEMO_RELATED');
  return settingsForm({
    values: value,
    fields: [
      ['enableDoubleClickEdit', t('memo-settings.double-click'), 'checkbox'],
      ['contentLengthLimit', t('memo-settings.length-limit'), 'number', {min: 0}],
    ],
    extra: reactionsEditor(value.reactions || []),
    validate: (now) => now.reactions.length > 0,
    onSave: async (now) => set({memoRelated: await setting('MEMO_RELATED', now)}),
  });
}

// Fields shown only while `shown(values)` holds.
function shownWhen(shown, fields) {
  return fields.map(([key, label, type, props]) => [key, label, type, {...props, when: shown}]);
}

export async function storage() {
  const value = await setting('STORAGE');
  const isS3 = (now) => now.storageType === 'S3';
  return settingsForm({
    values: {storageType: 'LOCAL', uploadSizeLimitMb: 30, filepathTemplate: 'assets/{timestamp}_{uuid}_{filename}', ...value,
      s3Config: {accessKeySecret: '', ...(value.s3Config || {})}},
    fields: [
      ['storageType', t('storage.type'), 'select',
        {options: [['LOCAL', t('storage.local')], ['DATABASE', t('storage.database')], ['S3', 'S3']]}],
      ['uploadSizeLimitMb', t('storage.max-size'), 'number', {min: 1, max: 1024}],
      ['filepathTemplate', t('storage.template'), 'text', {mono: true, when: (now) => now.storageType !== 'DATABASE'}],
      ...shownWhen(isS3, [
        ['s3Config.accessKeyId', t('storage.access-key')],
        ['s3Config.accessKeySecret', t('storage.secret'), 'password', {hint: t('common.blank-keeps')}],
        ['s3Config.endpoint', t('storage.endpoint'), 'url'],
        ['s3Config.region', t('storage.region')],
        ['s3Config.bucket', t('storage.bucket')],
        ['s3Config.usePathStyle', t('storage.path-style'), 'checkbox'],
        ['s3Config.insecureSkipTlsVerify', t('storage.skip-tls'), 'checkbox'],
      ]),
    ],
    validate: (now) => now.uploadSizeLimitMb > 0 && (!isS3(now) || now.s3Config.bucket),
    onSave: (now) => setting('STORAGE', isS3(now) ? now : {...now, s3Config: undefined}),
  });
}

export async function notification() {
  const value = await setting('NOTIFICATION');
  const on = (now) => Boolean(now.email?.enabled);
  const form = settingsForm({
    values: {email: {smtpPort: 587, useTls: true, smtpPassword: '', ...(value.email || {})}},
    fields: [
      ['email.enabled', t('notification.enabled'), 'checkbox'],
      ...shownWhen(on, [
        ['email.smtpHost', t('notification.host')],
        ['email.smtpPort', t('notification.port'), 'number', {min: 1, max: 65535}],
        ['email.smtpUsername', t('notification.username')],
        ['email.smtpPassword', t('auth.password'), 'password', {hint: t('common.blank-keeps')}],
        ['email.fromEmail', t('notification.from-email'), 'email'],
        ['email.fromName', t('notification.from-name')],
        ['email.replyTo', t('notification.reply-to'), 'email'],
        ['email.useTls', 'TLS', 'checkbox'],
        ['email.useSsl', 'SSL', 'checkbox'],
      ]),
    ],
    validate: ({email}) => !email.enabled || (email.smtpHost && email.fromEmail && email.smtpPort >= 1 && email.smtpPort <= 65535
      && !(email.useTls && email.useSsl)),
    onSave: (now) => setting('NOTIFICATION', now),
  });
  const test = h('button.btn', {disabled: !state.user.email, onclick: () => attempt(() => call('InstanceService',
    'TestInstanceEmailSetting', {recipientEmail: state.user.email}), t('notification.test-sent'))}, t('notification.test'));
  form.querySelector('.form-actions').prepend(test);
  return form;
}

function bytes(size) {
  let value = Number(size);
  if (!(value >= 0)) return t('stats.unknown');
  let unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    unit += 1;
  }
  return value.toFixed(unit ? 1 : 0) + ' ' + ['B', 'KB', 'MB', 'GB', 'TB'][unit];
}

export async function resourceStats(rerender) {
  const stats = await call('InstanceService', 'GetInstanceStats');
  return h('div.card',
    h('dl.facts',
      h('dt', t('stats.database')), h('dd', stats.database?.driver || '?', ' · ', bytes(stats.database?.sizeBytes)),
      h('dt', t('stats.local')), h('dd', bytes(stats.localStorageBytes ?? -1))),
    h('p.muted.small', t('stats.updated', {time: relativeTime(new Date(stats.generatedTime || Date.now()))}), ' ',
      h('button.btn', {onclick: rerender}, t('stats.refresh'))));
}

