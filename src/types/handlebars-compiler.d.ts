// Handlebars' parser and opcode compiler, without the code generator and runtime the package's entry point
// brings: the browser's template check (src/tickets/template-check.ts) needs only these.
declare module 'handlebars/dist/cjs/handlebars/compiler/base.js' {
  export function parse(input: string, options?: Record<string, unknown>): unknown;
}

declare module 'handlebars/dist/cjs/handlebars/compiler/compiler.js' {
  export class Compiler {
    compile(program: unknown, options: Record<string, unknown>): unknown;
  }
}
