/** The ordered list of categories; a separate file so that case files can import the suite's types without a cycle. */
import type { Category } from './case-types.js';
import { basicCategories } from './cases/basic.js';
import { fragmentationCategory, moreFragmentationCategory } from './cases/fragmentation.js';
import { moreUtf8Category, utf8Category } from './cases/utf8.js';
import { closeCategory, moreCloseCategory } from './cases/close.js';
import { limitsCategories } from './cases/limits.js';
import { deflateCategories } from './cases/deflate.js';
import { performanceCategory } from './cases/performance.js';
import { deflateSeriesCategories } from './cases/deflate-series.js';
import { extendedConnectCategories } from './cases/extended-connect.js';
import { http1HandshakeCategory } from './cases/handshake-http1.js';

export const CATEGORIES: Category[] = [
  ...basicCategories,
  fragmentationCategory,
  utf8Category,
  closeCategory,
  performanceCategory,
  ...limitsCategories,
  ...deflateSeriesCategories,
  ...deflateCategories,
  http1HandshakeCategory,
  ...extendedConnectCategories,
  moreFragmentationCategory,
  moreUtf8Category,
  moreCloseCategory,
];
