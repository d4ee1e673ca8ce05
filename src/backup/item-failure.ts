/** An item the run could not back up, named so an administrator can look at it. */
export interface ItemFailure {
  source: string;
  account: string;
  folder?: string;
  uid?: number;
  /** A calendar or contact item's name, or a file's path. */
  item?: string;
  reason: string;
}
