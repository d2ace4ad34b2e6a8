// '@lifeline/client/generated': the Codama-generated client of the Lifeline program
// (accounts, instructions, types, errors, the program plugin), from idl/lifeline.json.
export * from './generated/index';
