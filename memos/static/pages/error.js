// /404 and /403: a big numeral and one line.
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';

export default {
  render({route, main}) {
    const code = route.status || 404;
    main.append(h('div.error-page',
      h('p.error-code', String(code)),
      h('p.muted', t(code === 403 ? 'error.forbidden-line' : 'error.not-found-line'))));
  },
};
