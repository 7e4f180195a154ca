// The opt-out write lives with the other preference writes; writers that opt a user out inside their own transaction import it from here.
export { type OptOut, optOut, withdrawOptOut } from './preference-repository';
