/**
 * The selector syntax tree. Plain data so the parser, compiler, printer and the tests' reference
 * evaluator can share it. `pos` is the 0-based offset of the node's first token (for error messages).
 */
export type Literal = string | number | boolean | null;

export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { readonly kind: 'literal'; readonly value: Literal; readonly pos: number }
  | { readonly kind: 'ident'; readonly name: string; readonly pos: number }
  | { readonly kind: 'not'; readonly operand: Expr; readonly pos: number }
  | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr; readonly pos: number }
  | {
      readonly kind: 'compare';
      readonly op: CompareOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: number;
    }
  | {
      readonly kind: 'arith';
      readonly op: ArithOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: number;
    }
  | { readonly kind: 'unary'; readonly op: '+' | '-'; readonly operand: Expr; readonly pos: number }
  | {
      readonly kind: 'between';
      readonly negated: boolean;
      readonly value: Expr;
      readonly low: Expr;
      readonly high: Expr;
      readonly pos: number;
    }
  | {
      readonly kind: 'in';
      readonly negated: boolean;
      readonly value: Expr;
      readonly list: readonly string[];
      readonly pos: number;
    }
  | {
      readonly kind: 'like';
      readonly negated: boolean;
      readonly value: Expr;
      readonly pattern: string;
      /** One character, or null when the selector has no ESCAPE clause. */
      readonly escape: string | null;
      readonly pos: number;
    }
  | { readonly kind: 'isNull'; readonly negated: boolean; readonly value: Expr; readonly pos: number };

/**
 * What an expression is statically known to produce; `any` for identifiers, whose type is only known per
 * message (JMS 2.0 §3.8.1.1: "not all semantic checking can be performed at the time a message selector is
 * presented, because property types are not known").
 */
export type StaticType = 'boolean' | 'number' | 'string' | 'null' | 'any';

export function staticType(e: Expr): StaticType {
  switch (e.kind) {
    case 'literal':
      if (e.value === null) return 'null';
      return typeof e.value === 'boolean' ? 'boolean' : typeof e.value === 'number' ? 'number' : 'string';
    case 'ident':
      return 'any';
    case 'arith':
    case 'unary':
      return 'number';
    default:
      return 'boolean';
  }
}
