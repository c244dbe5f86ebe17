// Actions that report how they went: a toast when done, the server's message when not.
import {confirmDialog, toast, toastError} from './ui.js';

// Runs work(); when it resolves, toasts `done` (if given) and calls then(result); shows the error otherwise.
export async function attempt(work, done, then) {
  try {
    const result = await work();
    if (done) toast(done);
    then?.(result);
  } catch (error) {
    toastError(error);
  }
}

// attempt() once the user confirmed `question` (the options of confirmDialog).
export async function confirmThen(question, work, done, then) {
  if (await confirmDialog(question)) await attempt(work, done, then);
}
