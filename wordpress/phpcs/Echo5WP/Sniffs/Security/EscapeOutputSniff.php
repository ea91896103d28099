<?php
/**
 * Output goes through an escaping function: every operand of `echo`, `print` and the
 * arguments of printf() after the format are a string literal, a number, a cast to a number,
 * or the result of an escaping function. `_e()` and `_ex()` (unescaped translations) are
 * refused outright. Approximates WordPress.Security.EscapeOutput.
 *
 * @package Echo5_Leads
 */

namespace Echo5WP\Sniffs\Security;

use PHP_CodeSniffer\Files\File;
use PHP_CodeSniffer\Sniffs\Sniff;

/**
 * Unescaped output.
 */
class EscapeOutputSniff implements Sniff {

	/**
	 * Functions whose result is safe to print.
	 *
	 * @var string[]
	 */
	const SAFE = array(
		'esc_html', 'esc_attr', 'esc_url', 'esc_js', 'esc_textarea', 'esc_xml', 'esc_sql',
		'esc_html__', 'esc_attr__', 'esc_html_x', 'esc_attr_x',
		'wp_kses', 'wp_kses_post', 'wp_kses_data', 'absint', 'intval', 'floatval', 'count',
		'number_format_i18n', 'wp_nonce_field', 'get_submit_button', 'tag_escape', 'sanitize_html_class',
	);

	/**
	 * Functions that print their argument unescaped.
	 *
	 * @var string[]
	 */
	const UNSAFE_PRINTERS = array( '_e', '_ex' );

	/**
	 * Printf-like functions: arguments after the format are checked.
	 *
	 * @var string[]
	 */
	const PRINTF = array( 'printf', 'vprintf' );

	/**
	 * Tokens that start checking.
	 */
	public function register() {
		return array( T_ECHO, T_PRINT, T_STRING, T_OPEN_TAG_WITH_ECHO );
	}

	/**
	 * Checks one statement.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The token.
	 */
	public function process( File $file, $ptr ) {
		$tokens = $file->getTokens();
		$code   = $tokens[ $ptr ]['code'];
		if ( T_STRING === $code ) {
			$name = strtolower( $tokens[ $ptr ]['content'] );
			if ( ! $this->is_function_call( $file, $ptr ) ) {
				return;
			}
			if ( in_array( $name, self::UNSAFE_PRINTERS, true ) ) {
				$file->addError( '%s() prints a translation unescaped; use esc_html_e() or esc_attr_e()', $ptr, 'UnsafePrintingFunction', array( $name ) );
				return;
			}
			if ( in_array( $name, self::PRINTF, true ) ) {
				$open  = $file->findNext( T_WHITESPACE, $ptr + 1, null, true );
				$close = $tokens[ $open ]['parenthesis_closer'];
				$args  = $this->split( $file, $open + 1, $close, array( T_COMMA ) );
				array_shift( $args );
				foreach ( $args as $arg ) {
					$this->check_expression( $file, $arg[0], $arg[1] );
				}
			}
			return;
		}
		$end = $file->findEndOfStatement( $ptr + 1 );
		if ( T_OPEN_TAG_WITH_ECHO === $code ) {
			$end = $file->findNext( array( T_CLOSE_TAG, T_SEMICOLON ), $ptr + 1 );
		}
		$this->check_expression( $file, $ptr + 1, $end );
	}

	/**
	 * Whether the T_STRING at $ptr is a call of a global function (not a method, not a
	 * declaration).
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The token.
	 */
	private function is_function_call( File $file, $ptr ) {
		$tokens = $file->getTokens();
		$next   = $file->findNext( T_WHITESPACE, $ptr + 1, null, true );
		if ( false === $next || T_OPEN_PARENTHESIS !== $tokens[ $next ]['code'] ) {
			return false;
		}
		$prev = $file->findPrevious( T_WHITESPACE, $ptr - 1, null, true );
		return ! in_array( $tokens[ $prev ]['code'], array( T_OBJECT_OPERATOR, T_DOUBLE_COLON, T_FUNCTION, T_NULLSAFE_OBJECT_OPERATOR ), true );
	}

	/**
	 * Splits tokens [start, end) at the given separators at nesting depth zero.
	 *
	 * @param File  $file       The file.
	 * @param int   $start      First token.
	 * @param int   $end        One past the last.
	 * @param array $separators Token codes.
	 * @return array<array{0:int,1:int}>
	 */
	private function split( File $file, $start, $end, array $separators ) {
		$tokens = $file->getTokens();
		$parts  = array();
		$from   = $start;
		for ( $i = $start; $i < $end; $i++ ) {
			if ( isset( $tokens[ $i ]['parenthesis_closer'] ) && $tokens[ $i ]['parenthesis_closer'] > $i ) {
				$i = $tokens[ $i ]['parenthesis_closer'];
				continue;
			}
			if ( in_array( $tokens[ $i ]['code'], array( T_OPEN_SHORT_ARRAY, T_OPEN_SQUARE_BRACKET ), true ) && isset( $tokens[ $i ]['bracket_closer'] ) ) {
				$i = $tokens[ $i ]['bracket_closer'];
				continue;
			}
			if ( in_array( $tokens[ $i ]['code'], $separators, true ) ) {
				$parts[] = array( $from, $i );
				$from    = $i + 1;
			}
		}
		$parts[] = array( $from, $end );
		return $parts;
	}

	/**
	 * Every operand of an expression is safe.
	 *
	 * @param File $file  The file.
	 * @param int  $start First token.
	 * @param int  $end   One past the last.
	 */
	private function check_expression( File $file, $start, $end ) {
		$tokens = $file->getTokens();
		foreach ( $this->split( $file, $start, $end, array( T_STRING_CONCAT, T_COMMA, T_INLINE_THEN, T_INLINE_ELSE ) ) as $part ) {
			$first = $file->findNext( array( T_WHITESPACE, T_COMMENT ), $part[0], $part[1], true );
			if ( false === $first ) {
				continue;
			}
			$code = $tokens[ $first ]['code'];
			if ( in_array( $code, array( T_CONSTANT_ENCAPSED_STRING, T_LNUMBER, T_DNUMBER, T_INT_CAST, T_BOOL_CAST, T_DOUBLE_CAST, T_TRUE, T_FALSE, T_NULL ), true ) ) {
				$last = $file->findPrevious( array( T_WHITESPACE, T_COMMENT ), $part[1] - 1, $first, true );
				if ( $last === $first || T_CONSTANT_ENCAPSED_STRING !== $code ) {
					continue;
				}
			}
			if ( T_OPEN_PARENTHESIS === $code && isset( $tokens[ $first ]['parenthesis_closer'] ) ) {
				$this->check_expression( $file, $first + 1, $tokens[ $first ]['parenthesis_closer'] );
				continue;
			}
			if ( T_STRING === $code && in_array( strtolower( $tokens[ $first ]['content'] ), self::SAFE, true ) ) {
				continue;
			}
			// A condition before `?` is not printed.
			if ( $part[1] < $end && T_INLINE_THEN === $tokens[ $part[1] ]['code'] ) {
				continue;
			}
			$file->addError( 'Output not escaped: %s', $first, 'OutputNotEscaped', array( trim( $file->getTokensAsString( $first, max( 1, $part[1] - $first ) ) ) ) );
		}
	}
}
