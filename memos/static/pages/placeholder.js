// Pages whose turn has not come yet: a title and a short note. Replace the route's `page`
// in core/router.js with the real module when building one (see README.md).
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';

export default {
  render({route, main}) {
    main.append(h('h1.page-title', t(route.title)), h('p.empty-note', t('common.coming-soon')));
  },
};
