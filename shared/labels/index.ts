export { compileSelector, matchesAny, type LabelSelector, type LabelSelectorRequirement, type Labels, type Selector } from './selector.ts';
