// Codama's JS renderer does not render Anchor events, but the dashboard must decode
// them (the migration history's evidence lives in MigrationExecuted). This visitor
// turns every program event into a defined type named `<event>Event`, keeping the
// event's hidden discriminator prefix, so the generated decoder refuses the bytes of
// any other event.
import { definedTypeNode, programNode, rootNode, rootNodeVisitor } from 'codama';

export default function eventsAsDefinedTypes() {
  return rootNodeVisitor((root) => {
    const program = root.program;
    const events = (program.events ?? []).map((event) =>
      definedTypeNode({ name: `${event.name}Event`, type: event.data, docs: event.docs }),
    );
    return rootNode(
      programNode({ ...program, definedTypes: [...program.definedTypes, ...events] }),
      root.additionalPrograms,
    );
  });
}
