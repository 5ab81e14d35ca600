/** A page of the dashboard: it fetches what it shows, and fetches again whenever the database changes. */
export interface View {
  load(): Promise<void>;
}
