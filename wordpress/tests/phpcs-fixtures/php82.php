<?php
/**
 * Code PHP 8.1 cannot run, which PHP 8.2's `php -l` accepts (8.3 and 8.4 syntax, which 8.2
 * cannot parse, is in newer-syntax.inc). Checked by .ci/wordpress.sh, which expects every
 * sniff code listed in php82.expected to be reported for this file.
 *
 * @package Echo5_Leads
 */

/**
 * A readonly class (8.2).
 */
readonly final class Echo5_Newer_Readonly {
}

/**
 * A constant in a trait (8.2).
 */
trait Echo5_Newer_Trait {
	const LIMIT = 3;
}

/**
 * Types that are new in 8.2.
 */
class Echo5_Newer_Types {

	const NAME = 'x';

	/**
	 * DNF and true parameter types, a standalone false return type.
	 *
	 * @param mixed $a A.
	 * @param mixed $b B.
	 */
	public function dnf( (Countable&ArrayAccess)|null $a, true $b ): false {
		return false;
	}

	/**
	 * A standalone null parameter type, a true return type.
	 *
	 * @param null $n N.
	 */
	public function standalone( null $n ): true {
		return null === $n;
	}
}

/**
 * Functions and classes of 8.2 and 8.3.
 */
function echo5_newer_calls() {
	$r = new \Random\Randomizer();
	return json_validate( '{}' ) && mb_str_pad( 'a', 3 ) && $r->getInt( 1, 2 ) && memory_reset_peak_usage();
}
