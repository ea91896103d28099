<?php
/**
 * A function that reads $_POST, $_REQUEST or $_FILES verifies a nonce first
 * (wp_verify_nonce, check_admin_referer or check_ajax_referer earlier in the same function);
 * $_GET without one is a warning. Reads inside isset() or empty() only test presence and
 * pass. Approximates WordPress.Security.NonceVerification.
 *
 * @package Echo5_Leads
 */

namespace Echo5WP\Sniffs\Security;

use PHP_CodeSniffer\Files\File;
use PHP_CodeSniffer\Sniffs\Sniff;

/**
 * Request data read without a nonce check.
 */
class NonceVerificationSniff implements Sniff {

	/**
	 * Functions that verify a nonce.
	 *
	 * @var string[]
	 */
	const VERIFIERS = array( 'wp_verify_nonce', 'check_admin_referer', 'check_ajax_referer' );

	/**
	 * Superglobals whose reading needs a nonce: true for an error, false for a warning.
	 *
	 * @var array<string,bool>
	 */
	const GLOBALS = array(
		'$_POST'    => true,
		'$_REQUEST' => true,
		'$_FILES'   => true,
		'$_GET'     => false,
	);

	/**
	 * Tokens that start checking.
	 */
	public function register() {
		return array( T_VARIABLE );
	}

	/**
	 * Checks one variable.
	 *
	 * @param File $file The file.
	 * @param int  $ptr  The token.
	 */
	public function process( File $file, $ptr ) {
		$tokens = $file->getTokens();
		$name   = $tokens[ $ptr ]['content'];
		if ( ! isset( self::GLOBALS[ $name ] ) ) {
			return;
		}
		if ( $this->inside_call_of( $file, $ptr, array( T_ISSET, T_EMPTY ), array() ) || $this->inside_call_of( $file, $ptr, array( T_STRING ), self::VERIFIERS ) ) {
			return;
		}
		$function = false;
		foreach ( array_reverse( $tokens[ $ptr ]['conditions'], true ) as $cond_ptr => $cond_code ) {
			if ( in_array( $cond_code, array( T_FUNCTION, T_CLOSURE ), true ) ) {
				$function = $cond_ptr;
				break;
			}
		}
		$start = false === $function ? 0 : $tokens[ $function ]['scope_opener'];
		for ( $i = $start; $i < $ptr; $i++ ) {
			if ( T_STRING === $tokens[ $i ]['code'] && in_array( strtolower( $tokens[ $i ]['content'] ), self::VERIFIERS, true ) ) {
				return;
			}
		}
		$message = '%s is read without verifying a nonce first';
		if ( self::GLOBALS[ $name ] ) {
			$file->addError( $message, $ptr, 'Missing', array( $name ) );
		} else {
			$file->addWarning( $message, $ptr, 'Recommended', array( $name ) );
		}
	}

	/**
	 * Whether the token is inside the parentheses of isset()/empty() (a presence test) or of
	 * a nonce verifier (the nonce itself is read to be verified).
	 *
	 * @param File     $file  The file.
	 * @param int      $ptr   The token.
	 * @param int[]    $codes Token codes of the call's owner.
	 * @param string[] $names Function names when the owner is a T_STRING.
	 */
	private function inside_call_of( File $file, $ptr, array $codes, array $names ) {
		$tokens = $file->getTokens();
		if ( empty( $tokens[ $ptr ]['nested_parenthesis'] ) ) {
			return false;
		}
		foreach ( array_keys( $tokens[ $ptr ]['nested_parenthesis'] ) as $opener ) {
			$owner = $file->findPrevious( T_WHITESPACE, $opener - 1, null, true );
			if ( false === $owner || ! in_array( $tokens[ $owner ]['code'], $codes, true ) ) {
				continue;
			}
			if ( T_STRING !== $tokens[ $owner ]['code'] || in_array( strtolower( $tokens[ $owner ]['content'] ), $names, true ) ) {
				return true;
			}
		}
		return false;
	}
}
