/** Tags every AWS resource a component creates carries, so that a bill or a console search finds its owner. */
export const TAG_COMPONENT = "modelship:component";
export const TAG_INSTANCE = "modelship:name";
export const TAG_MANAGED_BY = "managed-by";

/** Default tags for a component instance, with the user's tags merged on top (the user's win). */
export function componentTags(component: string, name: string, extra?: Record<string, string>): Record<string, string> {
    return { [TAG_MANAGED_BY]: "pulumi", [TAG_COMPONENT]: component, [TAG_INSTANCE]: name, ...(extra ?? {}) };
}
