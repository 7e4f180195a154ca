import { type Liquid, type LiquidOptions, Tag, type TagToken, type TopLevelToken } from 'liquidjs';

/**
 * Options that leave a Liquid engine no file system: an empty in-memory template map replaces it.
 * By default liquidjs resolves `{% include %}` against the working directory, so a template sent
 * through the API could read the server's files into a message.
 */
export const NO_FILE_SYSTEM: LiquidOptions = {
  templates: {},
  root: [],
  partials: [],
  layouts: [],
  relativeReference: false,
};

/** The tags that load other templates by name: refused where the template is parsed. */
const FILE_TAGS = ['include', 'render', 'layout'] as const;

/**
 * Makes `include`, `render` and `layout` a syntax error naming the tag, so a template using them
 * is refused when it is saved (422) rather than failing later for every recipient.
 */
export function refuseFileTags(engine: Liquid): Liquid {
  for (const name of FILE_TAGS) {
    engine.registerTag(
      name,
      class extends Tag {
        constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
          super(token, remain, liquid);
          throw new Error(`{% ${name} %} is not available: a template cannot load other templates or files`);
        }
        render(): void {}
      },
    );
  }
  return engine;
}
