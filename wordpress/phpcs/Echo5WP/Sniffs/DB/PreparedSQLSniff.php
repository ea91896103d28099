<?php
/**
 * SQL goes through $wpdb->prepare(): the query of $wpdb->query(), get_var(), get_row(),
 * get_col() and get_results() is either a prepare() call or a string literal, and no string
 * handed to them or to prepare() interpolates a variable other than a table name ($table or
 * a $wpdb property such as $wpdb->prefix). Approximates WordPress.DB.PreparedSQL and
 * WordPress.DB.PreparedSQLPlaceholders' interpolation check.
 *
 * @package Echo5_Leads
 */

namespace Echo5WP\Sniffs\DB;

use PHP_CodeSniffer\Files\File;
use PHP_CodeSniffer\Sniffs\Sniff;

/**
 * Unprepared SQL.
 */
class PreparedSQLSniff implements Sniff {

	/**
	 * $wpdb methods that run SQL.
	 *
	 * @var string[]
	 */
	const RUNNERS = array( 'query', 'get_var', 'get_row', 'get_col', 'get_results' );

	/**
	 * Tokens that start checking.
	 */
	public function register() {
		return array( T_VARIABLE );
	}

	/**
	 * Checks one `$wpdb->method(` call.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The token.
	 */
	public function process( File $file, $ptr ) {
		$tokens = $file->getTokens();
		if ( '$wpdb' !== $tokens[ $ptr ]['content'] ) {
			return;
		}
		$arrow = $file->findNext( T_WHITESPACE, $ptr + 1, null, true );
		if ( false === $arrow || T_OBJECT_OPERATOR !== $tokens[ $arrow ]['code'] ) {
			return;
		}
		$method = $file->findNext( T_WHITESPACE, $arrow + 1, null, true );
		$open   = $file->findNext( T_WHITESPACE, $method + 1, null, true );
		if ( false === $open || T_OPEN_PARENTHESIS !== $tokens[ $open ]['code'] ) {
			return;
		}
		$name = strtolower( $tokens[ $method ]['content'] );
		if ( 'prepare' === $name ) {
			$this->check_interpolation( $file, $open + 1, $this->first_argument_end( $file, $open ) );
			return;
		}
		if ( ! in_array( $name, self::RUNNERS, true ) ) {
			return;
		}
		$end   = $this->first_argument_end( $file, $open );
		$first = $file->findNext( array( T_WHITESPACE, T_COMMENT ), $open + 1, $end, true );
		if ( false === $first ) {
			return;
		}
		if ( T_VARIABLE === $tokens[ $first ]['code'] && '$wpdb' === $tokens[ $first ]['content'] ) {
			$m = $file->findNext( array( T_WHITESPACE, T_OBJECT_OPERATOR ), $first + 1, $end, true );
			if ( false !== $m && 'prepare' === strtolower( $tokens[ $m ]['content'] ) ) {
				return;
			}
		}
		$only_strings = true;
		for ( $i = $first; $i < $end; $i++ ) {
			if ( ! in_array( $tokens[ $i ]['code'], array( T_CONSTANT_ENCAPSED_STRING, T_DOUBLE_QUOTED_STRING, T_WHITESPACE, T_COMMENT ), true ) ) {
				$only_strings = false;
				break;
			}
		}
		if ( ! $only_strings ) {
			$file->addError( 'The query of $wpdb->%s() is neither a $wpdb->prepare() call nor a string literal', $first, 'NotPrepared', array( $name ) );
			return;
		}
		$this->check_interpolation( $file, $first, $end );
	}

	/**
	 * The token that ends the first argument of the call opened at $open.
	 *
	 * @param File $file The file.
	 * @param int  $open The opening parenthesis.
	 */
	private function first_argument_end( File $file, $open ) {
		$tokens = $file->getTokens();
		$close  = $tokens[ $open ]['parenthesis_closer'];
		for ( $i = $open + 1; $i < $close; $i++ ) {
			if ( isset( $tokens[ $i ]['parenthesis_closer'] ) && $tokens[ $i ]['parenthesis_closer'] > $i ) {
				$i = $tokens[ $i ]['parenthesis_closer'];
				continue;
			}
			if ( T_COMMA === $tokens[ $i ]['code'] ) {
				return $i;
			}
		}
		return $close;
	}

	/**
	 * Double-quoted strings in [start, end) interpolate table names only.
	 *
	 * @param File $file  The file.
	 * @param int  $start First token.
	 * @param int  $end   One past the last.
	 */
	private function check_interpolation( File $file, $start, $end ) {
		$tokens = $file->getTokens();
		for ( $i = $start; $i < $end; $i++ ) {
			if ( T_DOUBLE_QUOTED_STRING !== $tokens[ $i ]['code'] && T_HEREDOC !== $tokens[ $i ]['code'] ) {
				continue;
			}
			if ( ! preg_match_all( '/\$[A-Za-z_][A-Za-z0-9_]*(?:->[A-Za-z_][A-Za-z0-9_]*)?/', $tokens[ $i ]['content'], $m ) ) {
				continue;
			}
			foreach ( $m[0] as $var ) {
				if ( '$table' !== $var && 0 !== strpos( $var, '$wpdb->' ) ) {
					$file->addError( 'SQL interpolates %s; pass it as a placeholder of $wpdb->prepare()', $i, 'InterpolatedNotPrepared', array( $var ) );
				}
			}
		}
	}
}
