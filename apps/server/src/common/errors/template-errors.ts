import { DomainError } from './domain-error';

/** A failure of one recipient's render: a fan-out suppresses that user's delivery instead of failing. */
export type RenderErrorCode = 'template_error' | 'content_too_large';

export type TemplateErrorCode =
  | RenderErrorCode
  | 'template_too_complex'
  | 'template_syntax_error'
  | 'unknown_template';

/** Content or a template the engine cannot use: a syntax error, too many tags, an unknown template. */
export class TemplateError<C extends TemplateErrorCode = TemplateErrorCode> extends DomainError<C> {}

/**
 * Content that does not render for the data and user at hand (a missing variable, a URL field
 * that renders to no URL, output over its channel's limit). Request time refuses it; fan-out,
 * which plans users after the 202, suppresses that one user's delivery.
 */
export class RenderError extends TemplateError<RenderErrorCode> {}
