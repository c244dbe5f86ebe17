"""Type-checks a parsed filter against an environment and compiles it to a condition tree.

Each syntax node becomes a *value*: a constant (folded here, so arithmetic and
comparisons between constants never reach SQL), a field reference, an integer
measure of a field (``size(content)``, ``created_ts.getHours()``), or a
condition. Comparisons then pair a field-like value with a constant and pick
the condition node; anything else is a FilterError naming the operator and the
operand types the way CEL's checker does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from memos.filter import conditions as c
from memos.filter.conditions import Condition, Op, TextMode, TimePart
from memos.filter.environment import Field, FieldKind
from memos.filter.errors import MAX_STRING_BYTES, FilterError
from memos.filter.parser import parse
from memos.filter.regex import regex_problem
from memos.filter.syntax import Binary, Call, Ident, ListExpr, Literal, Logical, Node, Select, Unary, children
from memos.filter.timevalues import MAX_DURATION_NANOS, in_timestamp_range, parse_duration, parse_timestamp, time_part

INT = "int"
UINT = "uint"
DOUBLE = "double"
STRING = "string"
BOOL = "bool"
NULL = "null_type"
TIMESTAMP = "google.protobuf.Timestamp"
DURATION = "google.protobuf.Duration"
LIST = "list"
TAG_LIST = "list(string)"
DYN = "dyn"

_INT64 = (-(2**63), 2**63 - 1)
_UINT64 = (0, 2**64 - 1)
_MAX_DURATION_SECONDS = MAX_DURATION_NANOS // 1_000_000_000
_RELATION_OPS = {op.value: op for op in Op}
_MIRRORED = {Op.EQ: Op.EQ, Op.NE: Op.NE, Op.LT: Op.GT, Op.LE: Op.GE, Op.GT: Op.LT, Op.GE: Op.LE}
_ORDERED_TYPES = {INT, UINT, DOUBLE, STRING, BOOL, TIMESTAMP, DURATION}
_TEXT_METHODS = {"contains": TextMode.CONTAINS, "startsWith": TextMode.PREFIX, "endsWith": TextMode.SUFFIX}
_ACCESSORS = {part.value: part for part in TimePart}
_TAG_MACROS = ("exists", "all", "exists_one")
_UNSUPPORTED_MACROS = ("map", "filter", "existsOne", "transformList", "transformMap")
_SET_FUNCTIONS = ("contains", "intersects", "equivalent")
_FIELD_TYPES = {
    FieldKind.TEXT: STRING, FieldKind.LABEL: STRING, FieldKind.CREATOR: STRING, FieldKind.TAG: STRING,
    FieldKind.ID: INT, FieldKind.TIME: TIMESTAMP, FieldKind.BOOLEAN: BOOL, FieldKind.PAYLOAD_FLAG: BOOL,
    FieldKind.TAGS: TAG_LIST, FieldKind.NULLABLE_ID: DYN,
}
_ORDERED_FIELDS = {FieldKind.TEXT, FieldKind.TIME}
_LISTABLE_FIELDS = {FieldKind.TEXT, FieldKind.LABEL, FieldKind.CREATOR, FieldKind.ID, FieldKind.TAG,
                    FieldKind.NULLABLE_ID}
_CREATOR_PREFIX = "users/"
_LITERAL_TYPES = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bool": BOOL, "null": NULL}


# --- values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    """A folded constant; timestamps and durations are whole seconds, lists hold Consts."""

    type: str
    value: object
    position: int


@dataclass(frozen=True)
class FieldRef:
    field: Field
    position: int


@dataclass(frozen=True)
class Measure:
    """An int computed from a field: its size (``part`` None) or a calendar part."""

    field: Field
    part: TimePart | None
    position: int


@dataclass(frozen=True)
class Predicate:
    condition: Condition
    position: int


Value = Const | FieldRef | Measure | Predicate


def type_of(value: Value) -> str:
    if isinstance(value, Const):
        return _list_type(value) if value.type == LIST else value.type
    if isinstance(value, FieldRef):
        return _FIELD_TYPES[value.field.kind]
    if isinstance(value, Measure):
        return INT
    return BOOL


def _list_type(value: Const) -> str:
    assert isinstance(value.value, tuple)
    element_types = {type_of(item) for item in value.value}
    return f"list({element_types.pop()})" if len(element_types) == 1 else "list(dyn)"


def _plain(value: Const) -> object:
    """The Python value of a constant, lists unwrapped (for folding equality)."""
    if value.type == LIST:
        assert isinstance(value.value, tuple)
        return tuple(_plain(item) for item in value.value)
    return value.value


# --- the compiler ------------------------------------------------------------------------


def compile_filter(text: str, fields: dict[str, Field], now: int) -> Condition:
    """The condition of filter ``text`` in the environment ``fields``; ``now`` in Unix seconds."""
    tree = parse(text)
    compiler = _Compiler(text, fields, now)
    value = compiler.value(tree)
    if type_of(value) == BOOL:
        return compiler.condition(value)
    if isinstance(value, FieldRef):
        raise compiler.error(f'identifier "{value.field.name}" is not boolean', value.position)
    raise compiler.error("filter must evaluate to a boolean value", tree.position)


class _Compiler:
    def __init__(self, text: str, fields: dict[str, Field], now: int) -> None:
        self.text = text
        self.fields = fields
        self.now = now

    def error(self, message: str, position: int) -> FilterError:
        return FilterError(message, position, self.text)

    def no_overload(self, function: str, types: list[str], position: int) -> FilterError:
        return self.error(f"found no matching overload for '{function}' applied to '({', '.join(types)})'", position)

    # --- dispatch --------------------------------------------------------------------

    def value(self, node: Node) -> Value:
        if isinstance(node, Literal):
            return self._literal(node)
        if isinstance(node, Ident):
            return self._identifier(node)
        if isinstance(node, ListExpr):
            return Const(LIST, tuple(self._constant(item, "list elements") for item in node.items), node.position)
        if isinstance(node, Select):
            raise self.error(f"field selection '.{node.name}' is not supported", node.position)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Logical):
            return self._logical(node)
        if isinstance(node, Binary):
            return self._binary(node)
        assert isinstance(node, Call)
        return self._call(node)

    def condition(self, value: Value) -> Condition:
        """``value`` as a condition; FilterError unless it is boolean."""
        if isinstance(value, Predicate):
            return value.condition
        if isinstance(value, Const) and value.type == BOOL:
            return c.Constant(bool(value.value))
        if isinstance(value, FieldRef) and value.field.kind is FieldKind.BOOLEAN:
            assert value.field.column is not None
            return c.Comparison(value.field.column, Op.EQ, True)
        if isinstance(value, FieldRef) and value.field.kind is FieldKind.PAYLOAD_FLAG:
            assert value.field.flag is not None
            return c.FlagIsTrue(value.field.flag)
        raise self.error(f"expected a boolean, found {type_of(value)}", value.position)

    def _constant(self, node: Node, what: str) -> Const:
        value = self.value(node)
        if not isinstance(value, Const):
            raise self.error(f"{what} must be constants", node.position)
        return value

    def _literal(self, node: Literal) -> Const:
        return Const(_LITERAL_TYPES[node.kind], node.value, node.position)

    def _identifier(self, node: Ident) -> Value:
        if node.name == "now":
            return Const(TIMESTAMP, self.now, node.position)
        field = self.fields.get(node.name)
        if field is None:
            raise self.error(f"undeclared reference to '{node.name}'", node.position)
        return FieldRef(field, node.position)

    # --- operators -------------------------------------------------------------------

    def _unary(self, node: Unary) -> Value:
        operand = self.value(node.operand)
        if node.op == "!":
            if type_of(operand) != BOOL or isinstance(operand, Measure):
                raise self.no_overload("!_", [type_of(operand)], node.position)
            if isinstance(operand, Const):
                return Const(BOOL, not operand.value, node.position)
            return Predicate(c.negation(self.condition(operand)), node.position)
        if isinstance(operand, Const) and operand.type in (INT, DOUBLE, DURATION):
            assert isinstance(operand.value, int | float)
            return self._checked(Const(operand.type, -operand.value, node.position))
        if isinstance(operand, FieldRef | Measure):
            raise self.error("arithmetic on fields is not supported; compare the field with a constant", node.position)
        raise self.no_overload("-_", [type_of(operand)], node.position)

    def _logical(self, node: Logical) -> Value:
        function = "_&&_" if node.op == "&&" else "_||_"
        parts: list[Condition] = []
        for operand_node in node.operands:
            operand = self.value(operand_node)
            if type_of(operand) != BOOL or isinstance(operand, Measure):
                raise self.no_overload(function, [BOOL, type_of(operand)], node.position)
            parts.append(self.condition(operand))
        combined = c.conjunction(parts) if node.op == "&&" else c.disjunction(parts)
        return Predicate(combined, node.position)

    def _binary(self, node: Binary) -> Value:
        left, right = self.value(node.left), self.value(node.right)
        if node.op == "in":
            return self._membership(left, right, node.position)
        if node.op in _RELATION_OPS:
            return self._relation(_RELATION_OPS[node.op], left, right, node.position)
        return self._arithmetic(node.op, left, right, node.position)

    # --- arithmetic (constants only) -----------------------------------------------------

    def _arithmetic(self, op: str, left: Value, right: Value, position: int) -> Const:
        if not isinstance(left, Const) or not isinstance(right, Const):
            raise self.error("arithmetic on fields is not supported; compare the field with a constant", position)
        result_type = _arithmetic_type(op, left.type, right.type)
        if result_type is None:
            raise self.no_overload(_function_name(op), [type_of(left), type_of(right)], position)
        if left.type == LIST:
            assert isinstance(left.value, tuple) and isinstance(right.value, tuple)
            return Const(LIST, left.value + right.value, position)
        if result_type == STRING:
            return self._checked(Const(STRING, f"{left.value}{right.value}", position))
        return self._checked(Const(result_type, self._number(op, left, right, position), position))

    def _number(self, op: str, left: Const, right: Const, position: int) -> int | float:
        a, b = left.value, right.value
        assert isinstance(a, int | float) and isinstance(b, int | float)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if isinstance(a, float) or isinstance(b, float):
            return _float_division(a, b)
        assert isinstance(a, int) and isinstance(b, int)
        if b == 0:
            raise self.error("division by zero" if op == "/" else "modulus by zero", position)
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # truncates toward zero, as CEL
        return quotient if op == "/" else a - b * quotient

    def _checked(self, value: Const) -> Const:
        """``value`` if it lies in its type's range, else the error CEL gives for the overflow."""
        number = value.value
        if value.type == INT and isinstance(number, int) and not _INT64[0] <= number <= _INT64[1]:
            raise self.error("integer overflow", value.position)
        if value.type == UINT and isinstance(number, int) and not _UINT64[0] <= number <= _UINT64[1]:
            raise self.error("unsigned integer overflow", value.position)
        if value.type == TIMESTAMP and isinstance(number, int) and not in_timestamp_range(number):
            raise self.error("timestamp out of range", value.position)
        if value.type == DURATION and isinstance(number, int) and abs(number) > _MAX_DURATION_SECONDS:
            raise self.error("duration out of range", value.position)
        if value.type == STRING and isinstance(number, str) and _folded_bytes(number) > MAX_STRING_BYTES:
            raise self.error(f"string is too long (the limit is {MAX_STRING_BYTES} bytes)", value.position)
        return value

    # --- comparisons -------------------------------------------------------------------

    def _relation(self, op: Op, left: Value, right: Value, position: int) -> Value:
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(BOOL, self._fold_relation(op, left, right, position), position)
        if isinstance(left, Const):
            left, right, op = right, left, _MIRRORED[op]
        if not isinstance(right, Const):
            self._require_same_types(op, left, right, position)
            raise self.error("a field can only be compared with a constant", position)
        if isinstance(left, FieldRef):
            return Predicate(self._field_relation(op, left, right, position), position)
        if isinstance(left, Measure):
            return Predicate(self._measure_relation(op, left, right, position), position)
        assert isinstance(left, Predicate)
        if right.type != BOOL or op not in (Op.EQ, Op.NE):
            raise self.no_overload(_function_name(op.value), [BOOL, type_of(right)], position)
        matches = (op is Op.EQ) == bool(right.value)
        return Predicate(left.condition if matches else c.negation(left.condition), position)

    def _require_same_types(self, op: Op, left: Value, right: Value, position: int) -> None:
        if type_of(left) != type_of(right):
            raise self.no_overload(_function_name(op.value), [type_of(left), type_of(right)], position)

    def _fold_relation(self, op: Op, left: Const, right: Const, position: int) -> bool:
        if op in (Op.EQ, Op.NE) and (NULL in (left.type, right.type) or type_of(left) == type_of(right)):
            equal = _plain(left) == _plain(right)
            return equal if op is Op.EQ else not equal
        if left.type != right.type or left.type not in _ORDERED_TYPES:
            raise self.no_overload(_function_name(op.value), [type_of(left), type_of(right)], position)
        a, b = left.value, right.value
        assert isinstance(a, int | float | str) and isinstance(b, int | float | str)
        results = {Op.LT: a < b, Op.LE: a <= b, Op.GT: a > b, Op.GE: a >= b}  # type: ignore[operator]
        return results[op]

    def _field_relation(self, op: Op, ref: FieldRef, constant: Const, position: int) -> Condition:
        field = ref.field
        if field.kind in (FieldKind.TAG, FieldKind.TAGS):
            raise self.error(f'field "{field.name}" does not support comparison', position)
        self._require_field_type(op.value, field, constant, position)
        if op not in (Op.EQ, Op.NE) and field.kind not in _ORDERED_FIELDS:
            raise self.error(f'operator {op.value} not allowed for field "{field.name}"', position)
        if field.kind is FieldKind.PAYLOAD_FLAG:
            return self._flag_relation(op, field, bool(constant.value))
        if field.kind is FieldKind.CREATOR:
            creator = c.CreatorIn((self._username(constant),))
            return creator if op is Op.EQ else c.negation(creator)
        assert field.column is not None
        value = constant.value
        assert value is None or isinstance(value, int | str)
        return c.Comparison(field.column, op, value)

    def _require_field_type(self, function: str, field: Field, constant: Const, position: int) -> None:
        if field.kind is FieldKind.NULLABLE_ID:
            if constant.type not in (INT, NULL):
                raise self.error(f'field "{field.name}" can only be compared with an integer or null', position)
            if constant.type == NULL and function not in ("==", "!="):
                raise self.error(f'operator {function} not allowed for field "{field.name}"', position)
            return
        expected = _FIELD_TYPES[field.kind]
        if type_of(constant) != expected:
            raise self.no_overload(_function_name(function), [expected, type_of(constant)], position)

    def _flag_relation(self, op: Op, field: Field, value: bool) -> Condition:
        assert field.flag is not None
        if field.flag is c.Flag.HAS_TASK_LIST:
            # Memos compares this one stored value with 0/1, so an absent key matches neither way.
            return c.FlagComparison(field.flag, op, value)
        is_true = c.FlagIsTrue(field.flag)
        return is_true if (op is Op.EQ) == value else c.negation(is_true)

    def _username(self, constant: Const) -> str:
        name = constant.value
        assert isinstance(name, str)
        if not name.startswith(_CREATOR_PREFIX) or len(name) == len(_CREATOR_PREFIX):
            raise self.error(f'creator must be "users/<username>", got {name!r}', constant.position)
        return name[len(_CREATOR_PREFIX):]

    def _measure_relation(self, op: Op, measure: Measure, constant: Const, position: int) -> Condition:
        if constant.type != INT:
            raise self.no_overload(_function_name(op.value), [INT, type_of(constant)], position)
        value = constant.value
        assert isinstance(value, int)
        if measure.part is not None:
            assert measure.field.column is not None
            return c.TimePartComparison(measure.field.column, measure.part, op, value)
        if measure.field.kind is FieldKind.TAGS:
            return c.TagCount(op, value)
        assert measure.field.column is not None
        return c.LengthComparison(measure.field.column, op, value)

    # --- membership --------------------------------------------------------------------

    def _membership(self, left: Value, right: Value, position: int) -> Value:
        if isinstance(right, FieldRef) and right.field.kind is FieldKind.TAGS:
            return Predicate(self._tag_element(left, position), position)
        if not (isinstance(right, Const) and right.type == LIST):
            raise self.no_overload("@in", [type_of(left), type_of(right)], position)
        items = right.value
        assert isinstance(items, tuple)
        if isinstance(left, Const):
            return Const(BOOL, any(self._fold_relation(Op.EQ, left, item, position) for item in items), position)
        if not isinstance(left, FieldRef) or left.field.kind not in _LISTABLE_FIELDS:
            raise self.error(f'"in" is not supported for {_describe(left)}', position)
        for item in items:
            self._require_field_type("in", left.field, item, position)
        return Predicate(self._field_membership(left.field, items), position)

    def _tag_element(self, left: Value, position: int) -> Condition:
        if not isinstance(left, Const):
            raise self.error('only a constant string can be tested with "in tags"', position)
        if left.type != STRING:
            raise self.no_overload("@in", [type_of(left), TAG_LIST], position)
        assert isinstance(left.value, str)
        return c.TagEquals(left.value)

    def _field_membership(self, field: Field, items: tuple[Const, ...]) -> Condition:
        values = [item.value for item in items]
        if field.kind is FieldKind.TAG:
            # Memos builds invalid SQL for an empty list; here it simply matches nothing.
            return c.disjunction([c.TagUnder(str(value)) for value in values])
        if field.kind is FieldKind.CREATOR:
            return c.CreatorIn(tuple(self._username(item) for item in items)) if items else c.FALSE
        if not values:
            return c.FALSE
        assert field.column is not None
        scalars = tuple(value for value in values if isinstance(value, int | str))
        return c.Membership(field.column, scalars)

    # --- calls ---------------------------------------------------------------------------

    def _call(self, node: Call) -> Value:
        if node.target is None:
            return self._global_call(node)
        if isinstance(node.target, Ident) and node.target.name == "sets" and "sets" not in self.fields:
            return self._sets(node)
        if node.name in _TAG_MACROS:
            return self._tag_macro(node)
        if node.name in _UNSUPPORTED_MACROS:
            raise self.error(f"the {node.name}() macro is not supported", node.position)
        receiver = self.value(node.target)
        if node.name in _TEXT_METHODS or node.name == "matches":
            return self._text_method(node, receiver)
        if node.name in _ACCESSORS:
            return self._accessor(node, receiver)
        if node.name == "size" and not node.args:
            return self._size(receiver, node.position)
        raise self.error(f"unsupported function '{node.name}'", node.position)

    def _global_call(self, node: Call) -> Value:
        if node.name == "now":
            raise self.error("now() is not supported; use the variable now", node.position)
        if node.name in ("has", *_TAG_MACROS, *_UNSUPPORTED_MACROS):
            raise self.error(f"{node.name}() is not supported", node.position)
        if node.name not in ("size", "timestamp", "duration"):
            raise self.error(f"undeclared reference to '{node.name}'", node.position)
        if len(node.args) != 1:
            raise self.no_overload(node.name, [type_of(self.value(arg)) for arg in node.args], node.position)
        argument = self.value(node.args[0])
        if node.name == "size":
            return self._size(argument, node.position)
        if not isinstance(argument, Const):
            raise self.error(f"{node.name}() needs a constant argument", node.position)
        if node.name == "timestamp":
            return self._timestamp(argument, node.position)
        return self._duration(argument, node.position)

    def _timestamp(self, argument: Const, position: int) -> Const:
        if argument.type == TIMESTAMP:
            return argument
        if argument.type == INT:
            assert isinstance(argument.value, int)
            return self._checked(Const(TIMESTAMP, argument.value, position))
        if argument.type == STRING:
            assert isinstance(argument.value, str)
            seconds = parse_timestamp(argument.value)
            if seconds is None:
                raise self.error(f"invalid timestamp literal {argument.value!r}", argument.position)
            return Const(TIMESTAMP, seconds, position)
        raise self.no_overload("timestamp", [type_of(argument)], position)

    def _duration(self, argument: Const, position: int) -> Const:
        if argument.type == DURATION:
            return argument
        if argument.type != STRING:
            raise self.no_overload("duration", [type_of(argument)], position)
        assert isinstance(argument.value, str)
        seconds = parse_duration(argument.value)
        if seconds is None:
            raise self.error(f"invalid duration literal {argument.value!r}", argument.position)
        return Const(DURATION, seconds, position)

    def _size(self, argument: Value, position: int) -> Value:
        if isinstance(argument, Const) and argument.type in (STRING, LIST):
            assert isinstance(argument.value, str | tuple)
            return Const(INT, len(argument.value), position)
        if isinstance(argument, FieldRef) and argument.field.kind in (FieldKind.TEXT, FieldKind.TAGS):
            return Measure(argument.field, None, position)
        if isinstance(argument, FieldRef) and type_of(argument) == STRING:
            raise self.error(f'size() is not supported for field "{argument.field.name}"', position)
        raise self.no_overload("size", [type_of(argument)], position)

    def _string_argument(self, node: Call, receiver: Value) -> str:
        if len(node.args) != 1:
            types = [type_of(receiver)] + [type_of(self.value(arg)) for arg in node.args]
            raise self.no_overload(node.name, types, node.position)
        argument = self.value(node.args[0])
        if not isinstance(argument, Const):
            raise self.error(f"the argument of {node.name}() must be a constant string", node.position)
        if argument.type != STRING:
            raise self.no_overload(node.name, [type_of(receiver), type_of(argument)], node.position)
        assert isinstance(argument.value, str)
        return argument.value

    def _text_method(self, node: Call, receiver: Value) -> Value:
        text = self._string_argument(node, receiver)
        if node.name == "matches":
            self._check_regex(text, node.position)
        if type_of(receiver) != STRING or isinstance(receiver, Predicate | Measure):
            raise self.no_overload(node.name, [type_of(receiver), STRING], node.position)
        if isinstance(receiver, Const):
            assert isinstance(receiver.value, str)
            return Const(BOOL, _fold_text(node.name, receiver.value, text), node.position)
        assert isinstance(receiver, FieldRef)
        field = receiver.field
        if field.kind is not FieldKind.TEXT:
            raise self.error(f'field "{field.name}" does not support text matching', node.position)
        assert field.column is not None
        if node.name == "matches":
            return Predicate(c.RegexSearch(field.column, text), node.position)
        return Predicate(c.TextSearch(field.column, _TEXT_METHODS[node.name], text), node.position)

    def _check_regex(self, pattern: str, position: int) -> None:
        problem = regex_problem(pattern)
        if problem is not None:
            raise self.error(f"invalid regular expression {pattern!r}: {problem}", position)

    def _accessor(self, node: Call, receiver: Value) -> Value:
        if node.args:
            argument = self.value(node.args[0])
            if len(node.args) == 1 and isinstance(argument, Const) and argument.type == STRING:
                raise self.error(f"{node.name}(): timezone argument not supported (accessors use UTC)", node.position)
            raise self.no_overload(node.name, [type_of(receiver), type_of(argument)], node.position)
        part = _ACCESSORS[node.name]
        if isinstance(receiver, Const) and receiver.type == TIMESTAMP:
            assert isinstance(receiver.value, int)
            return Const(INT, time_part(receiver.value, part), node.position)
        if isinstance(receiver, Const) and receiver.type == DURATION and part in _DURATION_UNITS:
            assert isinstance(receiver.value, int)
            return Const(INT, _truncated(receiver.value, _DURATION_UNITS[part]), node.position)
        if isinstance(receiver, FieldRef) and receiver.field.kind is FieldKind.TIME:
            return Measure(receiver.field, part, node.position)
        raise self.no_overload(node.name, [type_of(receiver)], node.position)

    # --- tags: macros and sets -----------------------------------------------------------

    def _tags_receiver(self, node: Node, function: str) -> None:
        receiver = self.value(node)
        if not (isinstance(receiver, FieldRef) and receiver.field.kind is FieldKind.TAGS):
            raise self.error(f"{function} is only supported on tags", node.position)

    def _tag_macro(self, node: Call) -> Value:
        assert node.target is not None
        self._tags_receiver(node.target, f"{node.name}()")
        if len(node.args) != 2 or not isinstance(node.args[0], Ident):
            raise self.error(f"{node.name}() takes a variable name and a predicate", node.position)
        predicate = self._tag_predicate(node.args[0].name, node.args[1], node.name)
        if node.name == "all":
            return Predicate(c.EveryTag(predicate), node.position)
        if node.name == "exists_one":
            return Predicate(c.ExactlyOneTag(predicate), node.position)
        if predicate.mode is None:
            return Predicate(c.TagEquals(predicate.text), node.position)
        return Predicate(c.TagTextMatch(predicate.mode, predicate.text), node.position)

    def _tag_predicate(self, variable: str, node: Node, macro: str) -> c.TagPredicate:
        """``t == "x"``, ``"x" == t`` or ``t.startsWith/endsWith/contains("x")``; nothing else."""
        if isinstance(node, Binary) and node.op == "==":
            sides = (node.left, node.right)
            for mine, other in (sides, sides[::-1]):
                if _is_variable(mine, variable) and not _mentions(other, variable):
                    return c.TagPredicate(None, self._predicate_text(other, node.position))
        if (isinstance(node, Call) and node.name in _TEXT_METHODS and node.target is not None
                and _is_variable(node.target, variable) and len(node.args) == 1
                and not _mentions(node.args[0], variable)):
            return c.TagPredicate(_TEXT_METHODS[node.name], self._predicate_text(node.args[0], node.position))
        raise self.error(
            f"unsupported predicate in tags.{macro}(): use {variable} == \"x\", {variable}.startsWith(\"x\"), "
            f"{variable}.endsWith(\"x\") or {variable}.contains(\"x\")",
            node.position,
        )

    def _predicate_text(self, node: Node, position: int) -> str:
        value = self.value(node)
        if not (isinstance(value, Const) and value.type == STRING):
            raise self.no_overload("_==_", [STRING, type_of(value)], position)
        assert isinstance(value.value, str)
        return value.value

    def _sets(self, node: Call) -> Value:
        if node.name not in _SET_FUNCTIONS:
            raise self.error(f"unsupported function 'sets.{node.name}'", node.position)
        if len(node.args) != 2:
            raise self.error(f"sets.{node.name}() takes two arguments", node.position)
        self._tags_receiver(node.args[0], f"sets.{node.name}()")
        values = self._string_list(node.args[1], f"sets.{node.name}", node.position)
        elements: list[Condition] = [c.TagEquals(value) for value in values]
        if node.name == "contains":
            return Predicate(c.conjunction(elements), node.position)
        if node.name == "intersects":
            return Predicate(c.disjunction(elements), node.position)
        count = c.TagCount(Op.EQ, len(set(values)))
        return Predicate(c.conjunction([*elements, count]), node.position)

    def _string_list(self, node: Node, function: str, position: int) -> list[str]:
        value = self.value(node)
        if not (isinstance(value, Const) and value.type == LIST):
            raise self.no_overload(function, [TAG_LIST, type_of(value)], position)
        assert isinstance(value.value, tuple)
        strings = [item.value for item in value.value if item.type == STRING]
        if len(strings) != len(value.value):
            raise self.no_overload(function, [TAG_LIST, type_of(value)], position)
        return [str(item) for item in strings]


# --- helpers -------------------------------------------------------------------------------

_DURATION_UNITS = {TimePart.HOURS: 3600, TimePart.MINUTES: 60, TimePart.SECONDS: 1}


def _truncated(seconds: int, unit: int) -> int:
    whole = abs(seconds) // unit
    return whole if seconds >= 0 else -whole


def _folded_bytes(text: str) -> int:
    return max(len(text.encode("utf-8")), len(text.casefold().encode("utf-8")))


def _is_variable(node: Node, variable: str) -> bool:
    return isinstance(node, Ident) and node.name == variable


def _mentions(node: Node, variable: str) -> bool:
    return _is_variable(node, variable) or any(_mentions(child, variable) for child in children(node))


def _describe(value: Value) -> str:
    if isinstance(value, FieldRef):
        return f'field "{value.field.name}"'
    return f"a {type_of(value)} value"


def _function_name(op: str) -> str:
    return "@in" if op == "in" else f"_{op}_"


def _arithmetic_type(op: str, left: str, right: str) -> str | None:
    """The result type of ``left op right`` between constants, None when CEL has no such overload."""
    if left == right and left in (INT, UINT):
        return left
    if left == right == DOUBLE and op != "%":
        return DOUBLE
    if op == "+" and left == right and left in (STRING, LIST):
        return left
    if op in ("+", "-") and (left, right) == (TIMESTAMP, DURATION):
        return TIMESTAMP
    if op == "+" and (left, right) == (DURATION, TIMESTAMP):
        return TIMESTAMP
    if op in ("+", "-") and left == right == DURATION:
        return DURATION
    if op == "-" and left == right == TIMESTAMP:
        return DURATION
    return None


def _float_division(a: float, b: float) -> float:
    if b == 0:
        return float("nan") if a == 0 or a != a else float("inf") * (1 if a > 0 else -1)
    return a / b


def _fold_text(method: str, value: str, text: str) -> bool:
    if method == "contains":
        return text in value
    if method == "startsWith":
        return value.startswith(text)
    if method == "endsWith":
        return value.endswith(text)
    return re.search(text, value) is not None
