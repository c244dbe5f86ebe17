// The composer's date when a calendar day is chosen (F10, E13): that day at the current clock time.

export function dayTimeOf(day, now = new Date()) {
  const [year, month, date] = day.split('-').map(Number);
  return new Date(year, month - 1, date, now.getHours(), now.getMinutes(), now.getSeconds());
}

const pad = (value) => String(value).padStart(2, '0');

// YYYY-MM-DD in local time (the calendar's day keys).
export function dayKey(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// YYYY-MM-DD HH:mm:ss in local time.
export function dayStamp(date) {
  return `${dayKey(date)} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
