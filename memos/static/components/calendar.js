// The activity calendar of the explorer (F15): a month of day cells shaded by how many memos
// fall on each local day, ‹ › to change month, the month label opening a year overview.
//   calendarSection({stats, selected: 'YYYY-MM-DD' | '', weekStart, updated, onDay(day)})
import {h, iconButton} from '../core/dom.js';
import {dialogHead, modal} from '../core/ui.js';
import {locale, t} from '../core/i18n.js';
import {dayKey} from './editor-day.js';

// Local day -> number of memos.
function countByDay(timestamps) {
  const counts = new Map();
  for (const stamp of timestamps || []) {
    const key = dayKey(new Date(stamp));
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return counts;
}

// The instance's week start (GENERAL week_start_day_offset: 0 Sunday, 1 Monday, -1 Saturday) as a weekday.
function firstWeekday(offset) {
  return (((Number(offset) || 0) % 7) + 7) % 7;
}

// 0 for no memos, else 1 to 4 by the share of the busiest day.
function shade(count, busiest) {
  return count && Math.max(1, Math.ceil((count / busiest) * 4));
}

// The days shown for a month: whole weeks, from the week holding the 1st to the one holding the last.
function monthDays(year, month, weekStart) {
  const lead = (new Date(year, month, 1).getDay() - weekStart + 7) % 7;
  const length = new Date(year, month + 1, 0).getDate();
  return Array.from({length: Math.ceil((lead + length) / 7) * 7}, (_, at) => new Date(year, month, 1 - lead + at));
}

function formatted(date, options) {
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

function weekdayNames(weekStart) {
  // 2023-01-01 was a Sunday.
  return Array.from({length: 7}, (_, at) => formatted(new Date(2023, 0, 1 + ((weekStart + at) % 7)), {weekday: 'narrow'}));
}

function monthLabel(year, month, options = {month: 'long', year: 'numeric'}) {
  return formatted(new Date(year, month, 1), options);
}

function dayLabel(date, count, updated) {
  const key = (updated ? 'calendar.count-updated' : 'calendar.count') + (count === 1 ? '-one' : '');
  return t(key, {count, date: formatted(date, {dateStyle: 'full'})});
}

const MOVES = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7};

// One month grid. `onDay(date)` for a click; `roving`: arrow keys move between days.
function monthGrid({year, month, counts, busiest, weekStart, selected, updated, onDay, mini = false}) {
  const today = dayKey(new Date());
  const grid = h('div', {class: 'calendar-grid' + (mini ? ' mini' : ''), role: 'grid', 'aria-label': monthLabel(year, month),
    onkeydown: (event) => {
      const at = buttons.indexOf(document.activeElement);
      if (at < 0 || !(event.key in MOVES)) return;
      event.preventDefault();
      const next = buttons[Math.min(buttons.length - 1, Math.max(0, at + MOVES[event.key]))];
      buttons[at].tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    }});
  const row = (cells) => grid.append(h('div.calendar-row', {role: 'row'}, cells));
  row(weekdayNames(weekStart).map((name) => h('span.calendar-weekday', {role: 'columnheader'}, name)));
  const days = monthDays(year, month, weekStart);
  const buttons = [];
  for (let at = 0; at < days.length; at += 7) {
    row(days.slice(at, at + 7).map((date) => {
      const key = dayKey(date);
      const number = mini ? '' : date.getDate();
      if (date.getMonth() !== month) return h('span.calendar-day.outside', {role: 'gridcell', 'aria-hidden': true}, number);
      const count = counts.get(key) || 0;
      let label = dayLabel(date, count, updated);
      if (key === selected) label += `, ${t('calendar.selected')}`;
      const button = h('button', {
        class: 'calendar-day level-' + shade(count, busiest) + (key === today ? ' today' : '') + (key === selected ? ' selected' : ''),
        'aria-label': label, title: label, 'aria-current': key === today ? 'date' : null,
        'aria-pressed': mini ? null : key === selected, tabindex: '-1', dataset: {day: key},
        onclick: () => onDay(date),
      }, number);
      buttons.push(button);
      return h('span', {role: 'gridcell'}, button);
    }));
  }
  const dayButton = (day) => buttons.find((button) => button.dataset.day === day);
  (dayButton(selected) || dayButton(today) || buttons[0]).tabIndex = 0;
  return grid;
}

// scope: what every grid shares ({counts, busiest, weekStart, updated}); onPick(date) shows that date's month.
function yearDialog(scope, year, onPick) {
  const body = h('div.year-months');
  const title = h('h2.dialog-title', {id: 'year-title'});
  const draw = (shown) => {
    title.textContent = shown;
    body.replaceChildren(...Array.from({length: 12}, (_, month) => h('section.year-month',
      h('h3.section-label', monthLabel(shown, month, {month: 'long'})),
      monthGrid({...scope, year: shown, month, selected: '', mini: true, onDay: pick}))));
  };
  const pick = (date) => {
    close();
    onPick(date);
  };
  draw(year);
  const {close} = modal('year-dialog', 'year-title',
    dialogHead([
      iconButton('left', t('calendar.previous-year'), () => draw(--year)),
      title,
      iconButton('right', t('calendar.next-year'), () => draw(++year))],
    h('button.btn', {onclick: () => pick(new Date())}, t('calendar.today'))),
    body);
}

// The explorer's calendar section: the scope's memo times (created or updated, as the display
// settings show), the day of the active date chip selected; a click selects or clears a day.
export function calendarSection({stats, selected = '', updated = false, weekStart, onDay}) {
  const counts = countByDay(updated ? stats?.memoUpdatedTimestamps : stats?.memoCreatedTimestamps);
  const scope = {counts, busiest: Math.max(1, ...counts.values()), weekStart: firstWeekday(weekStart), updated};
  let first = new Date(`${selected}T00:00:00`);
  if (Number.isNaN(first.getTime())) first = new Date();
  const root = h('div.calendar');

  // Draws the month of the date `shown`.
  const draw = (shown) => {
    const [year, month] = [shown.getFullYear(), shown.getMonth()];
    root.replaceChildren(
      h('div.calendar-head',
        h('button.calendar-month', {'aria-haspopup': 'dialog', title: t('calendar.year-view'),
          onclick: () => yearDialog(scope, year, (date) => {
            draw(date);
            root.querySelector('.calendar-month').focus();  // the dialog's trigger was redrawn
          })}, monthLabel(year, month)),
        iconButton('left', t('calendar.previous-month'), () => draw(new Date(year, month - 1, 1))),
        iconButton('right', t('calendar.next-month'), () => draw(new Date(year, month + 1, 1)))),
      monthGrid({...scope, year, month, selected, onDay: (date) => onDay(dayKey(date))}));
  };
  draw(first);
  return h('section.explorer-section.calendar-section', {'aria-label': t('calendar.label')}, root);
}
