/**
 * Message properties are plain objects keyed by names that clients choose. `obj[name] = value` with the
 * name `__proto__` would not create a property but try to change the object's prototype (and silently do
 * nothing for a primitive value): the property would be lost. Every decoder that builds properties from
 * client input sets them through here.
 */
export function setOwn<T>(obj: Record<string, T>, name: string, value: T): void {
  if (name === '__proto__') {
    Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[name] = value;
  }
}
