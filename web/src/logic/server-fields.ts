/** A form field the server's values are written into and the user can edit. */
export interface Field { value: string }

/**
 * Writes the server's values into form fields without overwriting what the user is typing: a field
 * whose value differs from the one last written here was edited, and a refresh leaves it alone. A
 * forced write (the answer to the user's own submission) writes every field again.
 */
export class ServerFields {
  private readonly written = new Map<Field, string>();

  edited(field: Field): boolean {
    const last = this.written.get(field);
    return last !== undefined && field.value !== last;
  }

  write(field: Field, value: string, force = false): void {
    if (!force && this.edited(field)) return;
    field.value = value;
    this.written.set(field, value);
  }
}
