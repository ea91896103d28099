<?php
/**
 * The plugin says `Requires PHP: 8.1`, but this project's machines have PHP 8.2 only, whose
 * `php -l` accepts 8.2 syntax. This sniff refuses the syntax, functions and classes newer
 * than PHP 8.1 that such code could slip in: readonly classes, DNF types, `true` as a type and
 * `null`/`false` standing alone, constants in traits and the `Random` extension (8.2); typed
 * class constants, dynamic class constant fetches (8.3); asymmetric visibility and property
 * hooks (8.4); and functions added in 8.2–8.4. Approximates PHPCompatibility's
 * `testVersion 8.1-` checks for what this plugin could plausibly use. It reads token
 * contents, not codes: PHP_CodeSniffer 3.7 does not know every newer construct by name.
 *
 * @package Echo5_Leads
 */

namespace Echo5WP\Sniffs\Compatibility;

use PHP_CodeSniffer\Files\File;
use PHP_CodeSniffer\Sniffs\Sniff;

/**
 * Code that PHP 8.1 cannot run.
 */
class NewerThanPHP81Sniff implements Sniff {

	/**
	 * Functions added after PHP 8.1 => the version that added them.
	 *
	 * @var array<string,string>
	 */
	const NEWER_FUNCTIONS = array(
		'ini_parse_quantity'                      => '8.2',
		'memory_reset_peak_usage'                 => '8.2',
		'mysqli_execute_query'                    => '8.2',
		'curl_upload_file_info'                   => '8.2',
		'openssl_cipher_key_length'               => '8.2',
		'libxml_get_external_entity_loader'       => '8.2',
		'sodium_crypto_stream_xchacha20_xor_ic'   => '8.2',
		'json_validate'                           => '8.3',
		'mb_str_pad'                              => '8.3',
		'str_increment'                           => '8.3',
		'str_decrement'                           => '8.3',
		'stream_context_set_options'              => '8.3',
		'posix_sysconf'                           => '8.3',
		'posix_pathconf'                          => '8.3',
		'posix_fpathconf'                         => '8.3',
		'posix_eaccess'                           => '8.3',
		'socket_atmark'                           => '8.3',
		'array_find'                              => '8.4',
		'array_find_key'                          => '8.4',
		'array_any'                               => '8.4',
		'array_all'                               => '8.4',
		'mb_trim'                                 => '8.4',
		'mb_ltrim'                                => '8.4',
		'mb_rtrim'                                => '8.4',
		'mb_ucfirst'                              => '8.4',
		'mb_lcfirst'                              => '8.4',
		'bcdivmod'                                => '8.4',
		'fpow'                                    => '8.4',
		'request_parse_body'                      => '8.4',
		'http_get_last_response_headers'          => '8.4',
		'http_clear_last_response_headers'        => '8.4',
	);

	/**
	 * Tokens that start a check.
	 */
	public function register() {
		return array( T_READONLY, T_STRING, T_FUNCTION, T_CLOSURE, T_FN, T_CONST, T_DOUBLE_COLON, T_PUBLIC, T_PROTECTED, T_PRIVATE, T_VARIABLE );
	}

	/**
	 * One token.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The token.
	 */
	public function process( File $file, $ptr ) {
		$tokens  = $file->getTokens();
		$content = strtolower( $tokens[ $ptr ]['content'] );
		switch ( $tokens[ $ptr ]['code'] ) {
			case T_FUNCTION:
			case T_CLOSURE:
			case T_FN:
				$this->check_signature( $file, $ptr );
				return;
			case T_CONST:
				$this->check_constant( $file, $ptr );
				return;
			case T_DOUBLE_COLON:
				$next = $this->next( $file, $ptr );
				if ( false !== $next && '{' === $tokens[ $next ]['content'] ) {
					$this->newer( $file, $ptr, 'a dynamic class constant fetch (Foo::{$name})', '8.3', 'DynamicClassConstantFetch' );
				}
				return;
			case T_PUBLIC:
			case T_PROTECTED:
			case T_PRIVATE:
				$next = $this->next( $file, $ptr );
				if ( false !== $next && '(' === $tokens[ $next ]['content'] ) {
					$this->newer( $file, $ptr, 'asymmetric visibility (' . $content . '(set))', '8.4', 'AsymmetricVisibility' );
				}
				return;
			case T_VARIABLE:
				$this->check_property_hook( $file, $ptr );
				return;
		}
		if ( 'readonly' === $content ) {
			$next = $this->next( $file, $ptr );
			while ( false !== $next && in_array( strtolower( $tokens[ $next ]['content'] ), array( 'final', 'abstract' ), true ) ) {
				$next = $this->next( $file, $next );
			}
			if ( false !== $next && 'class' === strtolower( $tokens[ $next ]['content'] ) ) {
				$this->newer( $file, $ptr, 'a readonly class', '8.2', 'ReadonlyClass' );
			}
			return;
		}
		if ( T_STRING !== $tokens[ $ptr ]['code'] ) {
			return;
		}
		if ( 'random' === $content ) {
			$next = $ptr + 1;
			$prev = $file->findPrevious( T_WHITESPACE, $ptr - 1, null, true );
			if ( isset( $tokens[ $next ] ) && T_NS_SEPARATOR === $tokens[ $next ]['code'] && ( false === $prev || T_NS_SEPARATOR !== $tokens[ $prev ]['code'] || $this->is_root_separator( $file, $prev ) ) ) {
				$this->newer( $file, $ptr, 'the Random extension (Random\\…)', '8.2', 'NewerClass' );
			}
			return;
		}
		if ( isset( self::NEWER_FUNCTIONS[ $content ] ) ) {
			$next = $this->next( $file, $ptr );
			$prev = $file->findPrevious( array( T_WHITESPACE, T_NS_SEPARATOR ), $ptr - 1, null, true );
			$call = false !== $next && '(' === $tokens[ $next ]['content'];
			$own  = false !== $prev && in_array( $tokens[ $prev ]['code'], array( T_OBJECT_OPERATOR, T_NULLSAFE_OBJECT_OPERATOR, T_DOUBLE_COLON, T_FUNCTION, T_NEW ), true );
			if ( $call && ! $own ) {
				$this->newer( $file, $ptr, $content . '()', self::NEWER_FUNCTIONS[ $content ], 'NewerFunction' );
			}
		}
	}

	/**
	 * Parameter and return types of a function, closure or arrow function.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The function keyword.
	 */
	private function check_signature( File $file, $ptr ) {
		$tokens = $file->getTokens();
		$open   = $file->findNext( T_OPEN_PARENTHESIS, $ptr + 1 );
		if ( false === $open || ! isset( $tokens[ $open ]['parenthesis_closer'] ) ) {
			return;
		}
		$close = $tokens[ $open ]['parenthesis_closer'];
		// Each parameter: the tokens before its variable, past attributes and modifiers.
		$type  = array();
		$depth = 0;
		$skip  = false;
		for ( $i = $open + 1; $i < $close; $i++ ) {
			$c = $tokens[ $i ]['content'];
			if ( T_ATTRIBUTE === $tokens[ $i ]['code'] && isset( $tokens[ $i ]['attribute_closer'] ) ) {
				$i = $tokens[ $i ]['attribute_closer'];
				continue;
			}
			if ( $skip ) {
				// A default value: until the comma that ends the parameter.
				if ( '(' === $c || '[' === $c ) {
					++$depth;
				} elseif ( ')' === $c || ']' === $c ) {
					--$depth;
				} elseif ( ',' === $c && 0 === $depth ) {
					$skip = false;
					$type = array();
				}
				continue;
			}
			if ( T_VARIABLE === $tokens[ $i ]['code'] ) {
				$this->check_type( $file, $i, $type );
				$type = array();
				$skip = true;
				$depth = 0;
				continue;
			}
			if ( ',' === $c ) {
				$type = array();
				continue;
			}
			$type[] = $i;
		}
		// The return type: after `:`, until the body, `;` or `=>`.
		$next = $this->next( $file, $close );
		if ( false !== $next && T_USE === $tokens[ $next ]['code'] ) {
			$use_open = $file->findNext( T_OPEN_PARENTHESIS, $next + 1 );
			$next     = false !== $use_open && isset( $tokens[ $use_open ]['parenthesis_closer'] ) ? $this->next( $file, $tokens[ $use_open ]['parenthesis_closer'] ) : false;
		}
		if ( false === $next || ':' !== $tokens[ $next ]['content'] ) {
			return;
		}
		$type = array();
		for ( $i = $next + 1; isset( $tokens[ $i ] ); $i++ ) {
			if ( in_array( $tokens[ $i ]['content'], array( '{', ';', '=>' ), true ) ) {
				break;
			}
			$type[] = $i;
		}
		$this->check_type( $file, $next, $type );
	}

	/**
	 * One type declaration.
	 *
	 * @param File  $file  The file.
	 * @param int   $at    Where to report.
	 * @param int[] $range The type's tokens (whitespace, modifiers and `&`/`...` included).
	 */
	private function check_type( File $file, $at, array $range ) {
		$tokens = $file->getTokens();
		$words  = array();
		$parens = false;
		foreach ( $range as $i ) {
			$c = strtolower( $tokens[ $i ]['content'] );
			if ( '(' === $c ) {
				$parens = true;
			}
			if ( in_array( $tokens[ $i ]['code'], array( T_WHITESPACE, T_COMMENT ), true ) || in_array( $c, array( '?', '|', '&', '(', ')', '...', 'public', 'protected', 'private', 'readonly' ), true ) ) {
				continue;
			}
			$words[] = $c;
		}
		if ( $parens ) {
			$this->newer( $file, $at, 'a DNF type ((A&B)|C)', '8.2', 'DNFType' );
		}
		if ( in_array( 'true', $words, true ) ) {
			$this->newer( $file, $at, 'the type true', '8.2', 'TrueType' );
		} elseif ( array( 'null' ) === $words || array( 'false' ) === $words ) {
			$this->newer( $file, $at, 'the type ' . $words[0] . ' on its own', '8.2', 'StandaloneNullFalseType' );
		}
	}

	/**
	 * Constants in traits (8.2) and typed class constants (8.3).
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The const keyword.
	 */
	private function check_constant( File $file, $ptr ) {
		$tokens     = $file->getTokens();
		$conditions = $tokens[ $ptr ]['conditions'];
		if ( array() !== $conditions && T_TRAIT === end( $conditions ) ) {
			$this->newer( $file, $ptr, 'a constant in a trait', '8.2', 'TraitConstant' );
		}
		$equal = $file->findNext( T_EQUAL, $ptr + 1 );
		if ( false === $equal ) {
			return;
		}
		$words = 0;
		for ( $i = $ptr + 1; $i < $equal; $i++ ) {
			if ( ! in_array( $tokens[ $i ]['code'], array( T_WHITESPACE, T_COMMENT ), true ) ) {
				++$words;
			}
		}
		if ( $words > 1 ) {
			$this->newer( $file, $ptr, 'a typed class constant', '8.3', 'TypedClassConstant' );
		}
	}

	/**
	 * Property hooks: a property of a class followed by `{`.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The variable.
	 */
	private function check_property_hook( File $file, $ptr ) {
		$tokens     = $file->getTokens();
		$conditions = $tokens[ $ptr ]['conditions'];
		if ( array() === $conditions || ! in_array( end( $conditions ), array( T_CLASS, T_TRAIT, T_ANON_CLASS, T_INTERFACE ), true ) ) {
			return;
		}
		$next = $this->next( $file, $ptr );
		if ( false !== $next && '{' === $tokens[ $next ]['content'] ) {
			$this->newer( $file, $ptr, 'a property hook', '8.4', 'PropertyHook' );
		}
	}

	/**
	 * Whether a namespace separator starts a fully qualified name (`\Random\…`).
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The separator.
	 */
	private function is_root_separator( File $file, $ptr ) {
		$tokens = $file->getTokens();
		$prev   = $file->findPrevious( T_WHITESPACE, $ptr - 1, null, true );
		return false === $prev || T_STRING !== $tokens[ $prev ]['code'];
	}

	/**
	 * The next token that is not whitespace or a comment.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  After this one.
	 * @return int|false
	 */
	private function next( File $file, $ptr ) {
		return $file->findNext( array( T_WHITESPACE, T_COMMENT ), $ptr + 1, null, true );
	}

	/**
	 * Reports one construct.
	 *
	 * @param File   $file    The file.
	 * @param int    $ptr     Where.
	 * @param string $what    The construct.
	 * @param string $version The PHP version that added it.
	 * @param string $code    The error code.
	 */
	private function newer( File $file, $ptr, $what, $version, $code ) {
		$file->addError( '%s needs PHP %s; the plugin supports PHP 8.1 (Requires PHP: 8.1)', $ptr, $code, array( $what, $version ) );
	}
}
